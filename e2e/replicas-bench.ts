/**
 * `npm run bench:replicas`: orders per second through the whole system with 1 and then with 3
 * processes of every service, in the same run and on the same three-node JetStream cluster shape,
 * because this machine is shared and noisy. An order counts once it is taken (201) and the
 * tickets service has reserved its ticket (order.created → tickets → ticket.updated → orders),
 * so the figure covers HTTP, PostgreSQL, the outbox, JetStream and the consumers.
 * BENCH_ORDERS (default 400) orders from BENCH_BUYERS (default 20) concurrent buyers, after
 * BENCH_WARMUP (default 300) untimed ones;
 * DATABASE_POOL_SIZE per process (default 10 with one replica, 4 with three).
 */
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { serviceRuntime } from "../scripts/launcher/runtime";
import { startWorld } from "./support/world";
import { inBatches } from "./support/marketplace";
import { setup as startTestDatabaseServer, teardown as stopTestDatabaseServer } from "../scripts/jest/database";

const orders = Number(process.env.BENCH_ORDERS ?? 400);
const buyerCount = Number(process.env.BENCH_BUYERS ?? 20);
const warmup = Number(process.env.BENCH_WARMUP ?? 300);

async function measure(replicas: number) {
  const pool = process.env.DATABASE_POOL_SIZE ?? (replicas > 1 ? "4" : "10");
  const world = await startWorld({ replicas, natsCluster: 3, env: { DATABASE_POOL_SIZE: pool } });
  const db = new Client({ connectionString: world.stack.databaseUrls.tickets });
  await db.connect();
  try {
    const { market } = world;
    const seller = await market.signUp("seller");
    const buyers = await market.signUpMany(buyerCount, "buyer");
    const all = await inBatches(
      Array.from({ length: warmup + orders }, (_, i) => i),
      10,
      (i) => market.sell(seller, `Seat ${i}`, 10),
    );
    // each process compiles its hot paths on its own: with three replicas every one of them must
    // see enough orders before the clock starts, or the figure measures V8 warming up
    await inBatches(all.slice(0, warmup), buyerCount, (t, i) => market.placeOrder(buyers[i % buyers.length], t.id));
    await world.caughtUp(120_000); // every service knows every ticket before the clock starts
    const tickets = all.slice(warmup);
    const ids = tickets.map((t) => t.id);

    const started = performance.now();
    const replies = await inBatches(tickets, buyerCount, (t, i) => market.placeOrder(buyers[i % buyers.length], t.id));
    const acceptedMs = performance.now() - started;
    const failed = replies.filter((r) => r.status !== 201).length;
    for (;;) {
      const r = await db.query("select count(*)::int as n from tickets where id = any($1::uuid[]) and status = 'reserved'", [ids]);
      if (r.rows[0].n >= orders - failed) break;
      if (performance.now() - started > 300_000) throw new Error(`only ${r.rows[0].n} of ${orders} tickets reserved after 300 s`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const throughMs = performance.now() - started;
    return {
      replicas,
      orders,
      failed,
      httpOrdersPerSecond: Math.round((orders / acceptedMs) * 10000) / 10,
      ordersPerSecond: Math.round(((orders - failed) / throughMs) * 10000) / 10,
      seconds: Math.round(throughMs) / 1000,
    };
  } finally {
    await db.end();
    await world.stop();
  }
}

async function main() {
  await startTestDatabaseServer();
  try {
    const one = await measure(1);
    process.stdout.write(`1 replica:  ${JSON.stringify(one)}\n`);
    const three = await measure(3);
    process.stdout.write(`3 replicas: ${JSON.stringify(three)}\n`);
    const results = {
      measuredAt: new Date().toISOString(),
      // the services' Node, which startWorld runs them on (the launcher's choice)
      machine: { cpus: (await import("node:os")).cpus().length, node: serviceRuntime().version },
      natsCluster: 3,
      buyers: buyerCount,
      warmup,
      runs: [one, three],
      ratio: Math.round((three.ordersPerSecond / one.ordersPerSecond) * 100) / 100,
    };
    const dir = path.join(__dirname, "..", "bench-results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "replicas.json"), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(
      `orders/s through the whole system: 1 replica ${one.ordersPerSecond}, 3 replicas ${three.ordersPerSecond} (×${results.ratio})\n`,
    );
  } finally {
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
