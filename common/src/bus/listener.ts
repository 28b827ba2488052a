import type { Envelope } from "../events/schemas";
import type { Subject } from "../events/subjects";
import type { UnitOfWork } from "../unit-of-work";

/**
 * One listener per subject a service consumes; the file `events/<subject>-listener.ts` exports it
 * as `<subject>Listener`. Its handler runs inside a unit of work that already holds the event's
 * inbox row: it reads and writes through `uow`, publishes with `uow.publish`, and throws
 * AlreadyApplied / RetryLater (or lets a version check throw them) to ack or wait.
 */
export interface Listener<S extends Subject = Subject, DB = unknown> {
  subject: S;
  /**
   * What its events are ordered by: two events with the same key are never handled at once, and
   * the later one in the stream waits for the earlier (e.g. every event about one ticket). Events
   * without a key are handled as they come.
   */
  orderedBy?(event: Envelope<S>): string;
  handle(event: Envelope<S>, uow: UnitOfWork<DB>): Promise<void>;
}

export function listener<S extends Subject, DB>(definition: Listener<S, DB>): Listener<S, DB> {
  return definition;
}
