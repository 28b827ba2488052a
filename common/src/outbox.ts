import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Logger } from "pino";
import { sendWithNext, type Db, type Tx } from "./db/database";
import { checkEventData, type EventData } from "./events/schemas";
import type { Subject } from "./events/subjects";
import { SweepLoop } from "./sweep-loop";
import { endOfTurn } from "./bus/bus";
import { SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { contextFrom, currentTraceContext, inSpan } from "./telemetry/tracing";

/** An outbox row as its transaction wrote it: what the fast path publishes after the commit. */
export interface WrittenEvent {
  id: string;
  subject: string;
  body: string;
  /** The trace context of the work that wrote it (W3C traceparent), carried to the consumers. */
  traceContext: Record<string, string> | null;
}

// The rows each open transaction wrote, so that whoever commits it can publish them at once
// without reading them back (see OutboxRelay.publishCommitted). Keyed weakly: a transaction that
// rolls back is dropped with its rows, which then never existed.
const writtenBy = new WeakMap<Tx, WrittenEvent[]>();

/**
 * Writes an event in the caller's transaction: it leaves only if the state change commits, and
 * it cannot be lost once it does. The relay publishes it after the commit, with the trace context
 * of the work that wrote it.
 */
export async function publishEvent<S extends Subject>(tx: Tx, subject: S, data: EventData<S>): Promise<string> {
  const id = randomUUID();
  const envelope = { id, type: subject, occurredAt: new Date().toISOString(), data: checkEventData(subject, data) };
  const body = JSON.stringify(envelope);
  const current = currentTraceContext();
  const traceContext = Object.keys(current).length > 0 ? current : null;
  // nobody reads the answer: the row goes out with the transaction's next statement or its commit
  await sql`${sendWithNext}insert into outbox (id, subject, payload, trace_context)
    values (${id}, ${subject}, ${body}::jsonb, ${traceContext ? JSON.stringify(traceContext) : null}::jsonb)`.execute(tx);
  const row = { id, subject, body, traceContext };
  const written = writtenBy.get(tx);
  if (written) written.push(row);
  else writtenBy.set(tx, [row]);
  return id;
}

/** The events `tx` wrote, forgotten here: call it once the transaction has committed. */
export function takeWrittenEvents(tx: Tx): WrittenEvent[] {
  const written = writtenBy.get(tx) ?? [];
  writtenBy.delete(tx);
  return written;
}

/** `headers` carries the trace context (traceparent) to the consumers. */
export type PublishFn = (subject: string, body: Uint8Array, msgId: string, headers?: Record<string, string>) => Promise<unknown>;

export interface RelayOptions {
  db: Db;
  publish: PublishFn;
  log: Logger;
  /** How often the sweeper looks for rows the fast path did not publish (crash, broker down). */
  sweepIntervalMs?: number;
  /** A claimed row not marked published after this long is claimed again (its claimer died). */
  claimMs?: number;
  /**
   * The sweeper takes a row only once it is this old (default 2 s). A younger one belongs to the
   * fast path of the transaction that wrote it, which publishes and marks it within milliseconds;
   * under load a sweep that took fresh rows too published most of a burst a second time.
   */
  sweepAfterMs?: number;
  /** Published rows are deleted after this long. */
  retentionMs?: number;
  batchSize?: number;
  /**
   * How long the fast path gathers published ids before the one UPDATE that marks them (default
   * 20 ms): a burst's events are marked together instead of one statement each. A crash in
   * between only makes the sweeper publish them again, and JetStream drops the copies.
   */
  markDelayMs?: number;
  /** Spans of the publishes (the no-op tracer when absent). */
  tracer?: Tracer;
}

/**
 * Publishes outbox rows. Fast path: the code that committed a transaction hands over the rows it
 * wrote (`transaction()`, `publishCommitted()`); they are published from memory at once and
 * marked published together, one statement for all that a burst brings, with no claim and no
 * read. Every transaction that writes events goes that way. The sweeper only picks up what the
 * fast path left (a crash between commit and publish, the broker down): rows older than
 * `sweepAfterMs`, claimed with SKIP LOCKED so replicas share the work. The event id is the
 * Nats-Msg-Id, so a row published twice (a fast publish slower than `sweepAfterMs`, a claimer
 * that died after publishing) is dropped by JetStream.
 */
export class OutboxRelay {
  private readonly loop: SweepLoop;
  private lastPrune = 0;
  published = 0;
  /** Fast-path publishes not settled yet (stop() waits for them). */
  private readonly fastInFlight = new Set<Promise<void>>();
  /** Ids published by the fast path, waiting for the one statement that marks them. */
  private toMark: string[] = [];
  private marking?: Promise<void>;
  private readonly committedWatchers: Array<(rows: WrittenEvent[]) => void> = [];

  constructor(private readonly options: RelayOptions) {
    this.loop = new SweepLoop(() => this.flushAll(), {
      intervalMs: options.sweepIntervalMs ?? 2_000,
      onError: (err) => options.log.warn({ err: (err as Error).message }, "outbox relay pass failed; the sweeper retries"),
    });
  }

  start(): this {
    this.loop.start();
    return this;
  }

  private async flushAll(): Promise<void> {
    while ((await this.flushOnce(this.options.sweepAfterMs ?? 2_000)) > 0 && !this.loop.isStopped) {
      // keep going while there is a backlog
    }
    await this.prune();
  }

  /** Publishes one row inside a producer span that continues the trace of the work that wrote it. */
  private publishRow(row: { id: string; subject: string; body: string; traceContext: Record<string, string> | null }): Promise<unknown> {
    const tracer = this.options.tracer ?? trace.getTracer("outbox");
    return inSpan(
      tracer,
      `${row.subject} publish`,
      {
        kind: SpanKind.PRODUCER,
        parent: contextFrom(row.traceContext),
        attributes: { "messaging.system": "nats", "messaging.destination.name": row.subject, "messaging.message.id": row.id },
      },
      () => this.options.publish(row.subject, new TextEncoder().encode(row.body), row.id, currentTraceContext()),
    );
  }

  /**
   * Runs `fn` in a transaction of the relay's database and, once it has committed, publishes the
   * events it wrote at once (fire and forget: the caller's answer does not wait for NATS).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let used: Tx | undefined;
    const result = await this.options.db.transaction().execute((tx) => {
      used = tx;
      return fn(tx);
    });
    if (used) this.publishCommitted(takeWrittenEvents(used));
    return result;
  }

  /**
   * Publishes rows of a committed transaction from memory, at the end of this turn of the event
   * loop, with whatever else the turn publishes (one socket write for all). A row whose publish
   * fails stays unpublished in the table, and the sweeper retries it.
   */
  publishCommitted(rows: WrittenEvent[]): void {
    if (rows.length === 0) return;
    for (const watcher of this.committedWatchers) {
      try {
        watcher(rows);
      } catch (err) {
        this.options.log.error({ err }, "a watcher of committed events failed; the events are published all the same");
      }
    }
    if (this.loop.isStopped) return;
    for (const row of rows) {
      const work = endOfTurn()
        .then(() => this.publishRow(row))
        .then(
          () => {
            this.toMark.push(row.id);
            this.markPublished();
          },
          (err: Error) => this.options.log.warn({ err: err.message, eventId: row.id }, "event not published at once; the sweeper retries"),
        )
        .finally(() => this.fastInFlight.delete(work));
      this.fastInFlight.add(work);
    }
  }

  /**
   * Calls `watcher` right after every commit that wrote events through this relay (a route's
   * `transaction()`, a listener's handler), with those events, before they are published: the
   * service learns of its own changes without waiting for the broker.
   */
  onCommitted(watcher: (rows: WrittenEvent[]) => void): void {
    this.committedWatchers.push(watcher);
  }

  /** One UPDATE for every id published in the last moment (markDelayMs), one running at most. */
  private markPublished(): void {
    if (this.marking) return;
    this.marking = (async () => {
      await new Promise((resolve) => setTimeout(resolve, this.options.markDelayMs ?? 20));
      while (this.toMark.length > 0) {
        const ids = this.toMark;
        this.toMark = [];
        try {
          await sql`update outbox set published_at = now(), claimed_until = null where id = any(${ids}::uuid[])`.execute(this.options.db);
          this.published += ids.length;
        } catch (err) {
          // unmarked rows are published again by the sweeper, and JetStream drops the copies
          this.options.log.warn({ err: (err as Error).message, events: ids.length }, "published events not marked; the sweeper republishes them");
        }
      }
    })().finally(() => {
      this.marking = undefined;
      if (this.toMark.length > 0) this.markPublished();
    });
  }

  /**
   * Publishes one batch of pending rows written at least `minAgeMs` ago (all of them by default:
   * nothing is in flight any more); returns how many were published.
   */
  async flushOnce(minAgeMs = 0): Promise<number> {
    const { db } = this.options;
    const claimMs = this.options.claimMs ?? 10_000; // above a batch's publish time (5 s timeout each, in parallel)
    const batch = this.options.batchSize ?? 200;
    const claimed = await sql<{ id: string; subject: string; payload: unknown; trace_context: Record<string, string> | null }>`
      update outbox set claimed_until = now() + ${`${claimMs} milliseconds`}::interval
      where seq in (
        select seq from outbox
        where published_at is null and (claimed_until is null or claimed_until < now())
          and created_at <= now() - ${`${minAgeMs} milliseconds`}::interval
        order by seq limit ${batch}
        for update skip locked
      )
      returning id, subject, payload, trace_context`.execute(db);
    if (claimed.rows.length === 0) return 0;
    const done: string[] = [];
    const results = await Promise.allSettled(
      claimed.rows.map(async (row) => {
        // a child of the work that wrote the event, however long after it the row is published
        const body = typeof row.payload === "string" ? row.payload : JSON.stringify(row.payload);
        await this.publishRow({ id: row.id, subject: row.subject, body, traceContext: row.trace_context });
        done.push(row.id);
      }),
    );
    if (done.length > 0) {
      await sql`update outbox set published_at = now(), claimed_until = null where id = any(${done}::uuid[])`.execute(db);
      this.published += done.length;
    }
    const failed = claimed.rows.filter((r) => !done.includes(r.id)).map((r) => r.id);
    if (failed.length > 0) {
      // release at once so the sweeper's next pass retries them
      await sql`update outbox set claimed_until = null where id = any(${failed}::uuid[])`.execute(db);
      const reason = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      throw new Error(`${failed.length} event(s) not published: ${(reason.reason as Error)?.message ?? reason.reason}`);
    }
    return done.length;
  }

  private async prune() {
    const now = Date.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    const keep = this.options.retentionMs ?? 3_600_000;
    await sql`delete from outbox where published_at < now() - ${`${keep} milliseconds`}::interval`.execute(this.options.db);
    await sql`delete from inbox where handled_at < now() - interval '7 days'`.execute(this.options.db);
  }

  /** Number of rows not yet published. */
  async pending(): Promise<number> {
    const r = await sql<{ n: string }>`select count(*) as n from outbox where published_at is null`.execute(this.options.db);
    return Number(r.rows[0].n);
  }

  /** Stops the sweeper after a last pass, so a clean shutdown leaves nothing behind. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.fastInFlight]);
    await this.marking;
    try {
      await this.flushOnce();
    } catch {
      // the next start's sweeper publishes what is left
    }
  }
}
