/**
 * `npm run bench`: each figure next to a ceiling measured in the same run, because this machine
 * is shared and noisy; the ratios are what to compare between runs.
 *  1. events: raw JetStream publish→consume vs the full path (outbox row in a transaction →
 *     relay → JetStream → consumer with inbox transaction), latency and throughput
 *  2. HTTP: a bare Express route vs GET /api/tickets on the tickets service (10k tickets)
 *  3. memory: resident memory of the whole stack when idle (npm start's processes)
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import express from "express";
import { sql } from "kysely";
import { AckPolicy, DeliverPolicy } from "nats";
import {
  Bus,
  EventConsumer,
  OutboxRelay,
  commonMigrationsDir,
  listener,
  migrate,
  openDatabase,
  publishEvent,
} from "@ticketforge/common";
import { startTestService, signInCookie, silentLogger, testJwtKey } from "@ticketforge/common/testing";
import { startNatsServer } from "@ticketforge/nats";
import { tickets } from "../../tickets/src/service";
import { startStack } from "../../e2e/stack";
import { setup as startTestDatabaseServer, teardown as stopTestDatabaseServer } from "../jest/database";
import { formatTracingCost, tracingCost } from "./tracing";

const log = silentLogger();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function events(natsUrl: string) {
  const bus = await Bus.connect({ url: natsUrl, name: "bench", log });
  const enc = new TextEncoder();
  // ceiling: raw publish → consume on a durable consumer
  await bus.jsm.streams.add({ name: "RAW", subjects: ["raw.>"] });
  await bus.jsm.consumers.add("RAW", { durable_name: "raw", ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  const rawConsumer = await bus.js.consumers.get("RAW", "raw");
  const rawMessages = await rawConsumer.consume();
  const rawSeen = new Map<number, number>();
  void (async () => {
    for await (const m of rawMessages) {
      rawSeen.set(Number(new TextDecoder().decode(m.data)), performance.now());
      m.ack();
    }
  })();
  const latency = async (n: number, send: (i: number) => Promise<void>, seen: Map<number, number>) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await send(i);
      while (!seen.has(i)) await new Promise((r) => setImmediate(r));
      out.push(seen.get(i)! - t0);
    }
    return out;
  };
  const rawLat = await latency(300, async (i) => void (await bus.js.publish("raw.x", enc.encode(String(i)))), rawSeen);
  rawSeen.clear();
  const burst = 2000;
  let t0 = performance.now();
  await Promise.all(Array.from({ length: burst }, (_, i) => bus.js.publish("raw.x", enc.encode(String(i)))));
  while (rawSeen.size < burst) await new Promise((r) => setTimeout(r, 1));
  const rawRate = burst / ((performance.now() - t0) / 1000);
  await rawMessages.close();

  // the full path
  const database = await openDatabase({ url: process.env.TEST_DATABASE_URL! });
  await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }]);
  const relay = new OutboxRelay({ db: database.db, log, publish: (s, b, id) => bus.publish(s, b, id) }).start();
  const seen = new Map<number, number>();
  const consumer = new EventConsumer(
    listener("ticket.created", async (event) => {
      seen.set(event.data.version, performance.now());
    }),
    { bus, db: database.db, log, service: "bench", maxDeliver: 5, afterCommit: () => relay.kick() },
  );
  await consumer.start();
  const emit = (i: number) =>
    database.db.transaction().execute((tx) => publishEvent(tx, "ticket.created", { id: `t${i}`, title: "T", price: 100, userId: "u", version: i }));
  const fullLat = await latency(300, async (i) => {
    await emit(i);
    relay.kick();
  }, seen);
  seen.clear();
  t0 = performance.now();
  for (let i = 0; i < burst; i++) {
    await emit(100_000 + i);
    relay.kick();
  }
  while (seen.size < burst) await new Promise((r) => setTimeout(r, 1));
  const fullRate = burst / ((performance.now() - t0) / 1000);
  await consumer.stop();
  await relay.stop();
  await database.close();
  await bus.drain();
  return {
    raw: { p50Ms: round(pct(rawLat, 50)), p99Ms: round(pct(rawLat, 99)), perSecond: Math.round(rawRate) },
    outboxInbox: { p50Ms: round(pct(fullLat, 50)), p99Ms: round(pct(fullLat, 99)), perSecond: Math.round(fullRate) },
    throughputRatio: round(fullRate / rawRate, 3),
    latencyRatioP50: round(pct(fullLat, 50) / pct(rawLat, 50), 1),
  };
}

async function load(url: string, headers: Record<string, string>, total = 2000, concurrency = 10) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const s = performance.now();
        await new Promise<void>((resolve, reject) => {
          http
            .get(url, { agent, headers }, (res) => {
              res.resume();
              res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
            })
            .on("error", reject);
        });
        lat.push(performance.now() - s);
      }
    }),
  );
  agent.destroy();
  return { perSecond: Math.round(total / ((performance.now() - t0) / 1000)), p50Ms: round(pct(lat, 50)), p99Ms: round(pct(lat, 99)) };
}

async function httpBench(natsUrl: string) {
  const bare = express();
  bare.get("/ping", (_req, res) => void res.json([{ id: "x", title: "T", price: 1 }]));
  const server = await new Promise<http.Server>((resolve) => {
    const s = bare.listen(0, () => resolve(s));
  });
  const service = await startTestService(tickets, natsUrl);
  const user = signInCookie(testJwtKey);
  await sql`insert into tickets (title, price_cents, user_id, status, version)
    select 'Ticket ' || g, 1000 + g, ${user.id}, 'available', 0 from generate_series(1, 10000) g`.execute(service.ctx.db);
  const port = (server.address() as { port: number }).port;
  const ceiling = await load(`http://127.0.0.1:${port}/ping`, {});
  const list = await load(`${service.url}/api/tickets`, {});
  const show = await load(`${service.url}/api/tickets?q=ticket%2099`, {});
  server.close();
  await service.close();
  return { bareExpress: ceiling, listTickets: list, searchTickets: show, listRatio: round(list.perSecond / ceiling.perSecond, 3) };
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

async function memory() {
  const measure = async (env: NodeJS.ProcessEnv) => {
    const stack = await startStack({ env });
    await new Promise((r) => setTimeout(r, 5_000));
    const perProcess: Record<string, number> = {};
    for (const [name, p] of Object.entries(stack.processes)) if (p.pid) perProcess[name] = rssMb(p.pid);
    await stack.stop();
    return { totalMb: Object.values(perProcess).reduce((a, b) => a + b, 0), perProcessMb: perProcess };
  };
  const embedded = await measure({});
  const pg = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const own = process.env.TEST_DATABASE_URL;
  let postgres;
  try {
    process.env.TEST_DATABASE_URL = pg;
    postgres = await measure({});
  } catch (err) {
    postgres = { error: (err as Error).message.split("\n")[0] };
  } finally {
    process.env.TEST_DATABASE_URL = own;
  }
  return { embedded, postgres };
}

async function main() {
  const nats = await startNatsServer();
  await startTestDatabaseServer();
  const startedAt = new Date().toISOString();
  try {
    process.stdout.write("events…\n");
    const ev = await events(nats.url);
    process.stdout.write("http…\n");
    const web = await httpBench(nats.url);
    process.stdout.write("memory…\n");
    const mem = await memory();
    process.stdout.write("tracing (off / ids / exporting)…\n");
    const tracing = tracingCost();
    const results = { startedAt, machine: { cpus: (await import("node:os")).cpus().length, node: process.version }, events: ev, http: web, memory: mem, tracing };
    const dir = path.join(__dirname, "..", "..", "bench-results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "latest.json"), JSON.stringify(results, null, 2) + "\n");
    const summary = [
      `Measured ${startedAt.slice(0, 10)} on ${results.machine.cpus} cores, Node ${process.version}; full figures in bench-results/latest.json.`,
      "",
      "| what | ceiling (same run) | TicketForge | ratio |",
      "| --- | --- | --- | --- |",
      `| event latency p50 / p99 | raw JetStream ${ev.raw.p50Ms} / ${ev.raw.p99Ms} ms | outbox → relay → consumer + inbox ${ev.outboxInbox.p50Ms} / ${ev.outboxInbox.p99Ms} ms | ×${ev.latencyRatioP50} (p50) |`,
      `| event throughput | ${ev.raw.perSecond}/s | ${ev.outboxInbox.perSecond}/s (one transaction per event) | ${ev.throughputRatio} |`,
      `| GET /api/tickets (10k tickets, 10 concurrent) | bare Express ${web.bareExpress.perSecond} req/s | ${web.listTickets.perSecond} req/s, p99 ${web.listTickets.p99Ms} ms | ${web.listRatio} |`,
      `| search ?q= (10k tickets) | | ${web.searchTickets.perSecond} req/s, p99 ${web.searchTickets.p99Ms} ms | |`,
      `| idle memory, 5 services (RSS) | | embedded PostgreSQL ${mem.embedded.totalMb} MB; external PostgreSQL ${"totalMb" in mem.postgres ? `${mem.postgres.totalMb} MB` : "n/a"} | |`,
    ].join("\n");
    const readme = path.join(__dirname, "..", "..", "README.md");
    const text = fs.readFileSync(readme, "utf8");
    fs.writeFileSync(readme, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${summary}\n<!-- bench:end -->`));
    process.stdout.write(`${summary}\n`);
    process.stdout.write(`\nCost of tracing on POST → transaction → outbox → JetStream → consumer:\n${formatTracingCost(tracing)}\n`);
  } finally {
    await nats.destroy();
    await stopTestDatabaseServer();
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
