import { randomUUID } from "node:crypto";
import { sql, type CompiledQuery, type Kysely, type QueryExecutorProvider } from "kysely";
import type { PoolClient } from "pg";
import type { Database } from "./db/database";
import type { Logger } from "pino";
import { context, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { handleOf, runOn, transactionControl } from "./db/driver";
import { checkEventData, type EventData } from "./events/schemas";
import type { Subject } from "./events/subjects";
import { outboxInsert, type OutboxRelay, type WrittenEvent } from "./outbox";
import { currentTraceContext, inSpan } from "./telemetry/tracing";

/** A statement to send: a `sql` template or a query builder. */
export interface Sendable {
  compile(executorProvider: QueryExecutorProvider): CompiledQuery;
}

/** What a unit of work may log: its lines are written once it has committed, dropped if it rolls back. */
export type WorkLog = Pick<Logger, "debug" | "info" | "warn" | "error">;

/**
 * One piece of work on the service's database and the bus: one transaction, the events it
 * publishes, what runs after its commit. Routes, listeners and workers all get one from
 * `ctx.work(async (uow) => …)`; it is the only way to publish an event.
 *
 * Two ways to run a statement:
 * - `await … .execute(uow.db)` (or a query builder's `.execute()` on `uow.db`) when the answer
 *   is needed now;
 * - `uow.send(query)` when nobody reads its answer (a lock, a counter, a version check): it is
 *   written to the connection at once, travels with the next statement or the commit, and is
 *   settled before the commit answers. If it fails, the work fails with that statement's own
 *   error, whose stack shows where it was sent.
 */
export class UnitOfWork<DB = unknown> {
  /** This transaction's typed handle. */
  readonly db: Kysely<DB>;
  /** The events written to the outbox, published from memory once the commit is done. */
  readonly events: WrittenEvent[] = [];
  readonly afterCommitHooks: Array<() => void> = [];
  readonly log: WorkLog;
  private readonly lines: Array<() => void> = [];
  private readonly sent: Promise<void>[] = [];
  /** The first statement sent with `send` that failed: the cause of everything after it. */
  private failure?: Error;

  constructor(
    private readonly client: PoolClient,
    /** Fires when the work is given up (a handler past its time): no statement is sent after it. */
    readonly signal: AbortSignal,
    log: Logger,
  ) {
    this.db = handleOf<DB>(client, signal);
    const later = (level: keyof WorkLog) =>
      ((...args: unknown[]) =>
        void this.lines.push(() => (log[level] as (...a: unknown[]) => void).apply(log, args))) as WorkLog[keyof WorkLog];
    this.log = { debug: later("debug"), info: later("info"), warn: later("warn"), error: later("error") };
  }

  /** Sends a statement whose answer nobody reads; see the class comment. */
  send(query: Sendable): void {
    this.signal.throwIfAborted();
    this.settle(runOn(this.client, query.compile(this.db)), new Error("sent from"));
  }

  /**
   * Keeps a sent statement's outcome for the commit: its error, with where it was sent from
   * (`origin`, captured by `send`; none for the pipeline's own `begin`, always sent from here).
   */
  private settle(sent: Promise<unknown>, origin?: Error): void {
    this.sent.push(
      sent.then(
        () => undefined,
        (err: Error) => {
          if (this.failure) return;
          if (origin)
            err.stack = `${err.stack ?? err.message}\n  the statement was sent ${(origin.stack ?? "").split("\n").slice(1).join("\n")}`;
          this.failure = err;
        },
      ),
    );
  }

  /**
   * Writes an event in this transaction's outbox: it leaves only if the work commits, and it
   * cannot be lost once it has. Returns the event id.
   */
  publish<S extends Subject>(subject: S, data: EventData<S>): string {
    const id = randomUUID();
    const body = JSON.stringify({ id, type: subject, occurredAt: new Date().toISOString(), data: checkEventData(subject, data) });
    const current = currentTraceContext();
    const event = { id, subject, body, traceContext: Object.keys(current).length > 0 ? current : null };
    this.send(outboxInsert(event));
    this.events.push(event);
    return id;
  }

  /** Runs `fn` once the work has committed (never if it rolls back). */
  afterCommit(fn: () => void): void {
    this.afterCommitHooks.push(fn);
  }

  /**
   * docs/design.md §4 rule 3, for entities without a replica row: records `version` of entity
   * `id` in the entity_versions table if it is the next one (migration 003's apply_next_version).
   * Sent, not awaited: when it is not the next one, the work fails with AlreadyApplied (acked, no
   * effect) or RetryLater (redelivered later), and everything it did is undone.
   */
  applyNextVersion(entity: string, id: string, version: number): void {
    this.send(sql`select apply_next_version(${entity}, ${id}, ${version}::integer)`);
  }

  /** @internal the pipeline's steps (runWork below). */
  begin(): void {
    this.settle(this.client.query(transactionControl("begin")));
  }

  /** @internal Commits, after every sent statement; throws the first failure among them. */
  async commit(): Promise<void> {
    const committed = this.client.query(transactionControl("commit"));
    await Promise.allSettled(this.sent);
    const result = await committed;
    if (this.failure) throw this.failure;
    // a statement whose error the work caught: PostgreSQL turned the commit into a rollback
    if (result.command === "ROLLBACK")
      throw new Error("the transaction was rolled back, not committed: a statement in it had failed and its error was caught");
  }

  /** @internal Rolls back and returns the error to report: a failed sent statement's comes first. */
  async rollback(err: unknown): Promise<{ cause: unknown; broken: boolean }> {
    await Promise.allSettled(this.sent);
    const broken = await this.client.query(transactionControl("rollback")).then(
      () => false,
      () => true,
    );
    return { cause: this.failure ?? err, broken };
  }

  /** @internal Writes the log lines of a committed work. */
  flushLog(): void {
    for (const line of this.lines.splice(0)) line();
  }
}

/** What the work pipeline needs of the service. */
export interface WorkDeps {
  /** Its pool lends each work a connection; a given-up work's statement is cancelled through it. */
  database: Pick<Database, "pool" | "cancelRunning">;
  relay: OutboxRelay;
  log: Logger;
  /** Spans of the transactions (the no-op tracer when absent). */
  tracer?: Tracer;
}

export interface WorkOptions {
  /** For a listener: the event's inbox entry, written first, so that a duplicate has no effect. */
  inbox?: { consumer: string; eventId: string };
  /** Gives the work up (a listener's time limit). */
  signal?: AbortSignal;
  /** Where the work's own log lines go (a listener's carries the event id). */
  log?: Logger;
}

export type Work<DB> = <T>(fn: (uow: UnitOfWork<DB>) => Promise<T>, options?: WorkOptions) => Promise<T>;

/**
 * The pipeline of every unit of work, in the order it runs. A route, a listener or a worker
 * writes only step 4; everything else happens here, the same way for all of them.
 */
export function workPipeline<DB>(deps: WorkDeps, committedWatchers: Array<(events: WrittenEvent[]) => void>): Work<DB> {
  return async (fn, options = {}) => {
    const signal = options.signal ?? new AbortController().signal;
    // 1. a span for the transaction, inside a trace only (a poller's idle passes start none)
    const traced = trace.getSpan(context.active()) !== undefined;
    const run = async () => {
      // 2. a connection of the pool, held for the whole transaction
      const client = await deps.database.pool.connect();
      const uow = new UnitOfWork<DB>(client, signal, options.log ?? deps.log);
      let cancelling: Promise<void> | undefined;
      const cancel = () => void (cancelling = deps.database.cancelRunning(client));
      signal.addEventListener("abort", cancel, { once: true });
      let result;
      let broken = false;
      try {
        // 3. begin, and a listener's inbox row: both travel with the work's first statement; a
        //    redelivered event breaks the inbox key there, before anything of the work has run
        uow.begin();
        if (options.inbox) {
          uow.send(sql`insert into inbox (consumer, event_id) values (${options.inbox.consumer}, ${options.inbox.eventId})`);
        }
        // 4. the work itself: reads, writes, version checks, events into the outbox
        result = await fn(uow);
        signal.throwIfAborted();
        // 5. commit: every sent statement settles first; the first that failed fails the work
        await uow.commit();
      } catch (err) {
        const rolledBack = await uow.rollback(signal.aborted ? (signal.reason ?? err) : err);
        broken = rolledBack.broken;
        throw rolledBack.cause;
      } finally {
        signal.removeEventListener("abort", cancel);
        // a cancel still on its way must not reach the next work's statement on this connection
        await cancelling;
        // a connection that could not even roll back is closed, not handed to the next work
        client.release(broken);
      }
      // after the commit, in this order:
      // 6. the service's watchers of its own changes (the listing cache empties itself here)
      for (const watch of committedWatchers) {
        try {
          watch(uow.events);
        } catch (err) {
          deps.log.error({ err }, "a watcher of committed events failed; the events are published all the same");
        }
      }
      // 7. the events leave from memory; a crash before they do leaves them to the sweeper
      deps.relay.publishCommitted(uow.events);
      // 8. the work's own after-commit hooks, then 9. its log lines
      for (const hook of uow.afterCommitHooks) hook();
      uow.flushLog();
      return result as Awaited<ReturnType<typeof fn>>;
    };
    if (!traced) return run();
    return inSpan(
      deps.tracer ?? trace.getTracer("work"),
      "db.transaction",
      { kind: SpanKind.CLIENT, attributes: { "db.system.name": "postgresql" } },
      run,
    );
  };
}
