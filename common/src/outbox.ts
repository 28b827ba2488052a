import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Logger } from "pino";
import type { Db, Tx } from "./db/database";
import { checkEventData, type EventData } from "./events/schemas";
import { SweepLoop } from "./sweep-loop";
import type { Subject } from "./events/subjects";
import { SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { contextFrom, currentTraceContext, inSpan } from "./telemetry/tracing";

/**
 * Writes an event in the caller's transaction: it leaves only if the state change commits, and
 * it cannot be lost once it does. The relay publishes it after the commit, with the trace context
 * of the work that wrote it.
 */
export async function publishEvent<S extends Subject>(tx: Tx, subject: S, data: EventData<S>): Promise<string> {
  const id = randomUUID();
  const envelope = { id, type: subject, occurredAt: new Date().toISOString(), data: checkEventData(subject, data) };
  const traceContext = currentTraceContext();
  await sql`insert into outbox (id, subject, payload, trace_context)
    values (${id}, ${subject}, ${JSON.stringify(envelope)}::jsonb, ${Object.keys(traceContext).length > 0 ? JSON.stringify(traceContext) : null}::jsonb)`.execute(tx);
  return id;
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
  /** Published rows are deleted after this long. */
  retentionMs?: number;
  batchSize?: number;
  /** Spans of the publishes (the no-op tracer when absent). */
  tracer?: Tracer;
}

/**
 * Publishes outbox rows: at once when kicked after a commit (fast path) and periodically (sweeper).
 * Rows are claimed with SKIP LOCKED so replicas share the work; the event id is the Nats-Msg-Id,
 * so a row published twice (claimer died after publishing) is dropped by JetStream.
 */
export class OutboxRelay {
  private readonly loop: SweepLoop;
  private lastPrune = 0;
  published = 0;

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

  /** Asks for a flush now; concurrent kicks coalesce into one more pass. */
  kick(): void {
    this.loop.kick();
  }

  private async flushAll(): Promise<void> {
    while ((await this.flushOnce()) > 0 && !this.loop.isStopped) {
      // keep going while there is a backlog
    }
    await this.prune();
  }

  /** Publishes one batch of pending rows; returns how many were published. */
  async flushOnce(): Promise<number> {
    const { db, publish } = this.options;
    const claimMs = this.options.claimMs ?? 10_000; // above a batch's publish time (5 s timeout each, in parallel)
    const batch = this.options.batchSize ?? 200;
    const claimed = await sql<{ id: string; subject: string; payload: unknown; trace_context: Record<string, string> | null }>`
      update outbox set claimed_until = now() + ${`${claimMs} milliseconds`}::interval
      where seq in (
        select seq from outbox
        where published_at is null and (claimed_until is null or claimed_until < now())
        order by seq limit ${batch}
        for update skip locked
      )
      returning id, subject, payload, trace_context`.execute(db);
    if (claimed.rows.length === 0) return 0;
    const encoder = new TextEncoder();
    const tracer = this.options.tracer ?? trace.getTracer("outbox");
    const done: string[] = [];
    const results = await Promise.allSettled(
      claimed.rows.map((row) =>
        // a child of the work that wrote the event, however long after it the row is published
        inSpan(
          tracer,
          `${row.subject} publish`,
          {
            kind: SpanKind.PRODUCER,
            parent: contextFrom(row.trace_context),
            attributes: { "messaging.system": "nats", "messaging.destination.name": row.subject, "messaging.message.id": row.id },
          },
          async () => {
            const body = typeof row.payload === "string" ? row.payload : JSON.stringify(row.payload);
            await publish(row.subject, encoder.encode(body), row.id, currentTraceContext());
            done.push(row.id);
          },
        ),
      ),
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
    try {
      await this.flushOnce();
    } catch {
      // the next start's sweeper publishes what is left
    }
  }
}
