/**
 * The cost of tracing on the busiest path: POST (HTTP span) → transaction (span) → outbox →
 * relay (publish span) → JetStream → consumer (handling span + transaction span).
 *   npm run bench:tracing (common/bench/tracing-cost.ts)
 * Each mode runs in its own process (a process has one tracer provider):
 *   off        OTEL_SDK_DISABLED=true: no provider, the API's no-ops, no trace ids in logs
 *   ids        the default: spans get ids and pass the trace on, nothing is recorded
 *   exporting  every span recorded and sent over OTLP/HTTP to a local sink that accepts them
 * Two figures per mode: the tracing work of one event path alone (spans, context in and out,
 * log lines with ids; no I/O), which a shared machine's noise does not hide, and the whole path
 * end to end (latency, the process's CPU time per operation), where tracing should not show.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { trace } from "@opentelemetry/api";
import {
  contextFrom,
  createLogger,
  currentTraceContext,
  initTracing,
  inSpan,
  listener,
  type UnitOfWork,
  SpanKind,
  type ServiceDefinition,
} from "@ticketforge/common";
import { signInCookie, startTestService, testJwtKey } from "@ticketforge/common/testing";
import { startNatsServer } from "@ticketforge/nats";

export const tracingModes = ["off", "ids", "exporting"] as const;
type Mode = (typeof tracingModes)[number];

export interface TracingFigures {
  mode: Mode;
  operations: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerOperation: number;
  spansExported: number;
  /** The tracing work of one event's path alone (no I/O): the figure that noise does not hide. */
  tracingUsPerEvent: number;
}

/**
 * What tracing adds to one order's event path, without the I/O around it: the HTTP span
 * continuing the caller's traceparent, the transaction span, the context stored with the outbox
 * row, the publish span and its header, the consumer's span and transaction span, and two log
 * lines that carry the ids.
 */
async function tracingWork(iterations: number): Promise<number> {
  const tracer = trace.getTracer("bench");
  const log = createLogger("bench", "info", new Writable({ write: (_c, _e, done) => done() }));
  const incoming = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
  const once = async () => {
    let row: Record<string, string> = {};
    let headers: Record<string, string> = {};
    await inSpan(tracer, "POST /api/orders", { kind: SpanKind.SERVER, parent: contextFrom(incoming) }, () =>
      inSpan(tracer, "db.transaction", {}, async () => {
        row = currentTraceContext();
        log.info("order created");
      }),
    );
    await inSpan(tracer, "order.created publish", { kind: SpanKind.PRODUCER, parent: contextFrom(row) }, async () => {
      headers = currentTraceContext();
    });
    await inSpan(tracer, "order.created process", { kind: SpanKind.CONSUMER, parent: contextFrom(headers) }, () =>
      inSpan(tracer, "db.transaction", {}, async () => log.info("event handled")),
    );
  };
  for (let i = 0; i < 2_000; i++) await once();
  // CPU time, not wall-clock: on a shared machine the neighbours' load stretches the latter
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await once();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / iterations;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** One mode, in this process (the parent sets the environment for it). */
async function measure(mode: Mode, operations: number): Promise<TracingFigures> {
  let spansExported = 0;
  const sink = http.createServer((req, res) => {
    req.on("data", () => undefined);
    req.on("end", () => {
      spansExported++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  if (mode === "exporting") process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  await initTracing({ service: "bench" });
  const tracingUsPerEvent = await tracingWork(20_000);
  const migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-bench-"));
  fs.writeFileSync(path.join(migrationsDir, "001_things.sql"), "create table things (id text primary key);\n");
  const handled = new Map<string, number>();
  // resolved by the listener: a polling wait would burn the very CPU time being measured
  const waiters = new Map<string, () => void>();
  const def: ServiceDefinition = {
    name: "bench",
    settings: {},
    migrationsDir,
    routes: (app, ctx) => {
      app.post("/api/things", async (req, res) => {
        const id = String(req.body.id);
        await ctx.work(async (uow: UnitOfWork<{ things: { id: string } }>) => {
          await uow.db.insertInto("things").values({ id }).execute();
          uow.publish("ticket.created", { id, title: "T", price: 100, userId: "u", version: 0 });
        });
        res.status(201).json({ id });
      });
    },
    listeners: [
      listener({
        subject: "ticket.created",
        async handle(event) {
          handled.set(event.data.id, performance.now());
          waiters.get(event.data.id)?.();
        },
      }),
    ],
  };
  const nats = await startNatsServer();
  const service = await startTestService(def, nats.url);
  const cookie = signInCookie(testJwtKey).cookie;
  const agent = new http.Agent({ keepAlive: true });
  const post = (id: string) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ id });
      http
        .request(`${service.url}/api/things`, { method: "POST", agent, headers: { "content-type": "application/json", cookie } }, (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        })
        .on("error", reject)
        .end(body);
    });
  const waitHandled = (id: string) => (handled.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(id, resolve)));
  for (let i = 0; i < 50; i++) {
    await post(`warm-${i}`);
    await waitHandled(`warm-${i}`);
  }
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < operations; i++) {
    const t0 = performance.now();
    await post(`op-${i}`);
    await waitHandled(`op-${i}`);
    latencies.push(handled.get(`op-${i}`)! - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  await service.close();
  await nats.destroy();
  sink.close();
  fs.rmSync(migrationsDir, { recursive: true, force: true });
  return {
    mode,
    operations,
    p50Ms: round(pct(latencies, 50)),
    p99Ms: round(pct(latencies, 99)),
    cpuUsPerOperation: Math.round((cpu.user + cpu.system) / operations),
    spansExported,
    tracingUsPerEvent: round(tracingUsPerEvent),
  };
}

/** Runs every mode in a child process, `rounds` times in alternation, and keeps each mode's best. */
export function tracingCost(rounds = 2, operations = 500): TracingFigures[] {
  const best = new Map<Mode, TracingFigures>();
  for (let r = 0; r < rounds; r++) {
    for (const mode of tracingModes) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
        TRACING_BENCH_MODE: mode,
        TRACING_BENCH_OPERATIONS: String(operations),
      };
      delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
      if (mode === "off") env.OTEL_SDK_DISABLED = "true";
      const child = spawnSync(process.execPath, ["--import", "tsx", __filename], { env, encoding: "utf8" });
      if (child.status !== 0) throw new Error(`tracing bench (${mode}) failed:\n${child.stderr}`);
      const figures = JSON.parse(child.stdout.trim().split("\n").pop()!) as TracingFigures;
      const seen = best.get(mode);
      if (!seen || figures.tracingUsPerEvent < seen.tracingUsPerEvent) best.set(mode, figures);
    }
  }
  return tracingModes.map((m) => best.get(m)!);
}

export function formatTracingCost(figures: TracingFigures[]): string {
  const off = figures.find((f) => f.mode === "off")!;
  return [
    "| tracing | tracing work per event path | added vs off | whole path: latency p50 / p99, CPU per operation | OTLP requests |",
    "| --- | --- | --- | --- | --- |",
    ...figures.map(
      (f) =>
        `| ${f.mode} | ${f.tracingUsPerEvent} µs | ${f.mode === "off" ? "" : `+${round(f.tracingUsPerEvent - off.tracingUsPerEvent)} µs`} | ${f.p50Ms} / ${f.p99Ms} ms, ${f.cpuUsPerOperation} µs | ${f.spansExported} |`,
    ),
  ].join("\n");
}

if (require.main === module) {
  const mode = process.env.TRACING_BENCH_MODE as Mode | undefined;
  if (mode) {
    void measure(mode, Number(process.env.TRACING_BENCH_OPERATIONS ?? 500)).then(
      (figures) => {
        process.stdout.write(`${JSON.stringify(figures)}\n`);
        process.exit(0);
      },
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  } else {
    process.stdout.write(`${formatTracingCost(tracingCost())}\n`);
  }
}
