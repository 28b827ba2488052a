import { sql } from "kysely";
import { sendWithNext, type Tx } from "./db/database";
import { AlreadyApplied, RetryLater } from "./bus/listener";

/**
 * docs/design.md §4 rule 3: apply an entity's event only when it carries the next version.
 * An older or equal version is a duplicate (AlreadyApplied: ack, no effect); a newer one came
 * early (RetryLater: redelivered after the one before it). A replica row with a `version`
 * column uses `checkNextVersion` directly; other entities use the entity_versions table.
 */
export function checkNextVersion(current: number | undefined, incoming: number, what: string): void {
  const expected = current === undefined ? 0 : current + 1;
  if (incoming < expected) throw new AlreadyApplied(`${what} version ${incoming} already applied (have ${current})`);
  if (incoming > expected) throw new RetryLater(`${what} version ${incoming} came early (have ${current ?? "none"})`);
}

/**
 * Records `version` of entity `id` if it is the next one (the entity_versions table, through the
 * server-side `apply_next_version`, migration 003). Nobody needs its answer, so it travels with
 * the transaction's next statement or its commit (sendWithNext) instead of costing a round trip
 * of its own. When the version is not the next one, that statement or the commit fails instead
 * (SQLSTATE TF001 / TF002) and the transaction rolls back as a whole; `versionOutcome` turns the
 * failure into AlreadyApplied / RetryLater, as the consumer does. Code after this call must
 * therefore keep its effects inside the transaction (a handler's log lines are, see EventConsumer).
 */
export async function applyNextVersion(tx: Tx, entity: string, id: string, version: number): Promise<void> {
  await sql`${sendWithNext}select apply_next_version(${entity}, ${id}, ${version}::integer)`.execute(tx);
}

/** The version check's failure (see applyNextVersion) as AlreadyApplied / RetryLater; any other error as it is. */
export function versionOutcome(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "TF001") return new AlreadyApplied((err as Error).message);
  if (code === "TF002") return new RetryLater((err as Error).message);
  return err;
}
