import { sql } from "kysely";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Bus } from "../bus/bus";
import type { Queryable } from "../db/database";
import { deadLetterStream } from "../events/subjects";

/** Seconds; from a fast route (~1 ms) to a request stuck behind a lock. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Reads made on scrape (NATS, the database) are shared by scrapes that come close together. */
const scrapeCacheMs = 2_000;

export type EventOutcome = "handled" | "duplicate" | "retried" | "dead_lettered";

/**
 * The Prometheus metrics of one service, in its own registry (several services may run in one
 * test process; each /metrics shows its own). Every series carries `service`.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<"method" | "route" | "status">;
  readonly eventDuration: Histogram<"subject" | "outcome">;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    // The event-loop lag is sampled every 100 ms, not every 10 ms (prom-client's default): each
    // sample wakes the process, and at 10 ms that was most of an idle service's CPU (4 of ~12 ms
    // a second), while a lag that matters lasts far longer than 100 ms.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.httpDuration = new Histogram({
      name: "tf_http_request_duration_seconds",
      help: "HTTP requests by route template and status; _count is the request counter",
      labelNames: ["method", "route", "status"],
      buckets: latencyBuckets,
      registers: [this.registry],
    });
    this.eventDuration = new Histogram({
      name: "tf_event_handling_duration_seconds",
      help: "Event deliveries by subject and outcome (handled, duplicate, retried, dead_lettered); _count counts them",
      labelNames: ["subject", "outcome"],
      buckets: latencyBuckets,
      registers: [this.registry],
    });
  }

  /** A counter of the service's own, in its registry. */
  counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * A gauge read when Prometheus scrapes. `read` returns the values by label set; when it fails
   * (broker or database away) the series are left out of that scrape rather than failing it.
   */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    read: () => Promise<Array<[Partial<Record<L, string>>, number]>> | Array<[Partial<Record<L, string>>, number]>,
    cacheMs = 0,
  ): Gauge<L> {
    const cachedRead = cacheMs > 0 ? cached(read, cacheMs) : read;
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const [labels, value] of await cachedRead()) this.set(labels, value);
        } catch {
          // absent for this scrape; the alert rules treat a missing series as unknown, not as zero
        }
      },
    });
  }

  /**
   * pending and ack-pending of each durable consumer of the service, from JetStream's consumer
   * info: also while this instance does not consume (stopped, or another replica does).
   */
  watchConsumers(bus: Bus, consumers: Array<{ stream: string; durable: string; subject: string }>): void {
    const read = cached(
      async () =>
        (
          await Promise.all(
            consumers.map(async (c) => {
              // a durable not created yet has no lag to show
              const info = await bus.jsm.consumers.info(c.stream, c.durable).catch(() => undefined);
              return info && { labels: { durable: c.durable, subject: c.subject }, info };
            }),
          )
        ).filter((c) => c !== undefined),
      scrapeCacheMs,
    );
    this.gauge(
      "tf_consumer_pending_messages",
      "Messages of the stream not yet delivered to the durable consumer",
      ["durable", "subject"],
      async () => (await read()).map((c) => [c.labels, c.info.num_pending]),
    );
    this.gauge(
      "tf_consumer_ack_pending_messages",
      "Messages delivered to the durable consumer and not yet acknowledged",
      ["durable", "subject"],
      async () => (await read()).map((c) => [c.labels, c.info.num_ack_pending]),
    );
  }

  /** Outbox rows not yet published and the age of the oldest. */
  watchOutbox(db: Queryable): void {
    const read = cached(async () => {
      const r = await sql<{ n: string; age: string | null }>`
        select count(*) as n, extract(epoch from now() - min(created_at)) as age
        from outbox where published_at is null`.execute(db);
      return { rows: Number(r.rows[0].n), age: Number(r.rows[0].age ?? 0) };
    }, scrapeCacheMs);
    this.gauge("tf_outbox_pending_rows", "Outbox rows written and not yet published to JetStream", [], async () => [
      [{}, (await read()).rows],
    ]);
    this.gauge("tf_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row (0 when none)", [], async () => [
      [{}, (await read()).age],
    ]);
  }

  /** Messages this service parked in the dead-letter stream (replaying one removes it). */
  watchDeadLetters(bus: Bus): void {
    this.gauge(
      "tf_dead_letters",
      "Messages of this service in the dead-letter stream",
      [],
      async () => {
        const info = await bus.jsm.streams.info(deadLetterStream.name, { subjects_filter: `deadletter.${this.service}.>` });
        const count = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
        return [[{}, count]];
      },
      scrapeCacheMs,
    );
  }

  /** Connections of the PostgreSQL pool: in use, idle, and callers waiting for one. */
  watchPool(stats: () => { total: number; idle: number; waiting: number } | undefined): void {
    this.gauge("tf_db_pool_connections", "Connections of the database pool by state (total, idle, waiting clients)", ["state"], () => {
      const s = stats();
      return s
        ? [
            [{ state: "total" }, s.total],
            [{ state: "idle" }, s.idle],
            [{ state: "waiting" }, s.waiting],
          ]
        : [];
    });
  }
}

function cached<T>(read: () => Promise<T> | T, ms: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ms) {
      const value = Promise.resolve().then(read);
      last = { at: now, value };
      // a failed read is not kept: the next scrape asks again
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

/** One sample of a /metrics page: its name and labels, and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text format (what GET /metrics answers). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
