import { sql } from "kysely";
import type { Logger } from "pino";
import type { Queryable } from "./db/database";
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

/** The outbox row of an event, to be written in the transaction of the change it announces. */
export function outboxInsert(event: WrittenEvent) {
  return sql`insert into outbox (id, subject, payload, trace_context)
    values (${event.id}, ${event.subject}, ${event.body}::jsonb, ${event.traceContext ? JSON.stringify(event.traceContext) : null}::jsonb)`;
}

/** `headers` carries the trace context (traceparent) to the consumers. */
export type PublishFn = (subject: string, body: Uint8Array, msgId: string, headers?: Record<string, string>) => Promise<unknown>;

export interface RelayOptions {
  db: Queryable;
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
 * Publishes outbox rows. Fast path: a unit of work that committed hands over the rows it wrote
 * (`publishCommitted()`); they are published from memory at once and
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
   * Publishes rows of a committed transaction from memory, at the end of this turn of the event
   * loop, with whatever else the turn publishes (one socket write for all). A row whose publish
   * fails stays unpublished in the table, and the sweeper retries it.
   */
  publishCommitted(rows: WrittenEvent[]): void {
    if (rows.length === 0 || this.loop.isStopped) return;
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
          this.options.log.warn(
            { err: (err as Error).message, events: ids.length },
            "published events not marked; the sweeper republishes them",
          );
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
