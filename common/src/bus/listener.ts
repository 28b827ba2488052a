import type { Logger } from "pino";
import type { Envelope } from "../events/schemas";
import type { Subject } from "../events/subjects";
import type { Tx } from "../db/database";

/** What a handler may log: its lines are written once its transaction has committed. */
export type HandlerLog = Pick<Logger, "debug" | "info" | "warn" | "error">;

/** Context a handler gets besides its event: its transaction (the inbox row is already in it). */
export interface HandlerContext {
  tx: Tx;
  /** Lines written after the commit, dropped on a rollback (they would describe undone work). */
  log: HandlerLog;
}

/** One listener per subject a service consumes; the file `events/<subject>-listener.ts` exports it. */
export interface Listener<S extends Subject = Subject> {
  subject: S;
  handle(event: Envelope<S>, ctx: HandlerContext): Promise<void>;
}

export function listener<S extends Subject>(subject: S, handle: Listener<S>["handle"]): Listener<S> {
  return { subject, handle };
}

/** The event was already applied (an older or equal version): acknowledge it, no effect. */
export class AlreadyApplied extends Error {
  override name = "AlreadyApplied";
}

/** The event cannot be applied yet (it came early, or waits for another one): redeliver it later. */
export class RetryLater extends Error {
  override name = "RetryLater";
  constructor(
    message: string,
    readonly delayMs = 1_000,
  ) {
    super(message);
  }
}
