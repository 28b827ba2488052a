/**
 * docs/design.md §4 rule 3: an entity's event is applied only when it carries the next version.
 * An older or equal version is a duplicate (AlreadyApplied: ack, no effect); a newer one came
 * early (RetryLater: redelivered after the one before it). A replica row with a `version` column
 * uses `checkNextVersion`; other entities use `uow.applyNextVersion` (the entity_versions table).
 */

/** The event was already applied (an older or equal version): acknowledge it, no effect. */
export class AlreadyApplied extends Error {
  override name = "AlreadyApplied";
}

/**
 * The event cannot be applied yet (it came early, or waits for another one): nak, redelivered
 * after a wait that starts short and grows with each delivery up to `delayMs` (the consumer's
 * retryLaterWait); dead-lettered only after many deliveries.
 */
export class RetryLater extends Error {
  override name = "RetryLater";
  constructor(
    message: string,
    readonly delayMs = 1_000,
  ) {
    super(message);
  }
}

export function checkNextVersion(current: number | undefined, incoming: number, what: string): void {
  const expected = current === undefined ? 0 : current + 1;
  if (incoming < expected) throw new AlreadyApplied(`${what} version ${incoming} already applied (have ${current})`);
  if (incoming > expected) throw new RetryLater(`${what} version ${incoming} came early (have ${current ?? "none"})`);
}

/**
 * A version check done by the server (apply_next_version, or a service's own function such as
 * orders' apply_ticket_update) fails with SQLSTATE TF001 (already applied) or TF002 (came early):
 * as AlreadyApplied / RetryLater; any other error as it is.
 */
export function versionOutcome(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "TF001") return new AlreadyApplied((err as Error).message);
  if (code === "TF002") return new RetryLater((err as Error).message);
  return err;
}
