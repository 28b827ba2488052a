/**
 * The production shape under failures: three replicas of every service behind the gateway, a
 * three-node JetStream cluster running the prod overlay's nats.conf with three-replica streams,
 * and the stack's own PostgreSQL server, supervised as `npm start` supervises it. While buyers
 * place, pay and cancel orders, one kind of failure at a time: service replicas SIGKILLed (their
 * supervisor restarts them), each NATS node killed in turn, two nodes at once twice (quorum lost
 * and regained), PostgreSQL killed. After each the time to settle is measured; at the end, once
 * every order is final, nothing may be lost or done twice. The figures (settle time and the
 * buyers' 5xx answers per kind of failure) go to artifacts/failover.json.
 *
 * `npm test` runs short loads on two replicas of every service, and of the NATS kills only two nodes
 * at once (quorum lost and regained); the killed PostgreSQL is left to e2e/database-crash.test.ts
 * there, which kills it under load on every change. `npm run test:long` (TEST_SIZE=long) runs three
 * replicas, every kind of kill here, PostgreSQL included, and the full loads. FAILOVER_ORDERS sets
 * the tickets on sale per kind of failure.
 */
import fs from "node:fs";
import path from "node:path";
import type { Ticket } from "@ticketforge/common/api";
import { services, type ServiceName } from "../scripts/launcher/stack";
import {
  Buyers,
  Databases,
  allFinal,
  brokenInvariants,
  nothingBroken,
  killPostgres,
  lateOrderTimeline,
  long,
  sleep,
  ticketsOnSale,
  underLoad,
  type PhaseFigures,
} from "./support/failures";
import { startWorld, type World } from "./support/world";

const ticketsPerKind = Number(process.env.FAILOVER_ORDERS ?? (long ? 150 : 20));
const buyerCount = long ? 20 : 6;
/** Between a buyer's purchases: the short load is spread over the kills, not spent before them. */
const pauseMs = long ? 300 : 1_500;
/** The reservation window: the run ends once every order's has passed. */
const windowSeconds = long ? 20 : 12;
/** How long killed NATS nodes stay down before they are started again. */
const natsDownMs = long ? 8_000 : 4_000;

jest.setTimeout(1_200_000);

let world: World;
let db: Databases;

beforeAll(async () => {
  world = await startWorld({
    replicas: long ? 3 : 2,
    natsCluster: 3,
    ownPostgres: true,
    expirationWindowSeconds: windowSeconds,
    // 15 processes share one PostgreSQL server
    env: { DATABASE_POOL_SIZE: "4" },
  });
  db = new Databases(world.stack.databaseUrls);
}, 400_000);

afterAll(async () => {
  await db?.close();
  await world?.stop();
}, 120_000);

describe(`${long ? "Three" : "Two"} replicas of every service on a three-node JetStream cluster and a PostgreSQL server of their own`, () => {
  test(`When replicas, ${long ? "each NATS node in turn, two NATS nodes at once twice, and PostgreSQL are" : "and two NATS nodes at once are"} killed under load, then each time the system settles, and nothing is lost or done twice`, async () => {
    const { market, stack } = world;
    const seller = await market.signUp("seller");
    const people = await market.signUpMany(buyerCount, "buyer");
    const buyers = new Buyers(world);
    const sold: Ticket[] = [];
    const figures: PhaseFigures[] = [];
    const nodes = stack.natsNodes;
    const cluster = stack.natsCluster!;

    const phase = async (kind: string, kill: () => Promise<void>) => {
      const tickets = await ticketsOnSale(world, seller, ticketsPerKind);
      sold.push(...tickets);
      figures.push(await underLoad(world, db, buyers, { buyers: people, tickets, pauseMs }, kind, kill));
    };

    await phase("service replicas", async () => {
      // one replica every 3 s, never the same service twice in a row
      let last: ServiceName | undefined;
      for (let k = 0; k < (long ? 9 : 3); k++) {
        await sleep(3_000);
        const service = services.filter((s) => s !== last)[Math.floor(Math.random() * (services.length - 1))];
        const replica = stack.replicas[service][Math.floor(Math.random() * stack.replicas[service].length)];
        if (replica.pid) process.kill(replica.pid, "SIGKILL");
        last = service;
      }
      await Promise.all(
        Object.values(stack.replicas)
          .flat()
          .map((p) => p.waitReady(120_000)),
      );
    });
    if (long) {
      await phase("each NATS node in turn", async () => {
        for (const node of nodes) {
          await node.stop(); // SIGKILL
          await sleep(natsDownMs);
          await node.start();
          await cluster.waitForLeader(60_000);
        }
      });
    }
    await phase(long ? "two NATS nodes at once, twice" : "two NATS nodes at once", async () => {
      const pairs = long
        ? [
            [0, 1],
            [1, 2],
          ]
        : [[0, 1]];
      for (const pair of pairs) {
        await Promise.all(pair.map((i) => nodes[i].stop()));
        await sleep(natsDownMs);
        await Promise.all(pair.map((i) => nodes[i].start()));
        await cluster.waitForLeader(60_000);
      }
    });
    if (long) await phase("PostgreSQL", () => killPostgres(world, db));

    await allFinal(world, db);
    for (const late of buyers.latePayments) console.log(`late payment: ${JSON.stringify(await lateOrderTimeline(db, late))}`);
    const broken = await brokenInvariants(world, db, buyers, sold);
    // a pass for every complete order and for no other, exactly one each, whatever was killed
    const ours = await db.query<{ id: string; status: string }>(
      "orders",
      "select id, status from orders where ticket_id = any($1::uuid[])",
      [sold.map((t) => t.id)],
    );
    const issued = await db.query<{ order_id: string; n: string }>(
      "passes",
      "select order_id, count(*) as n from passes where transferred_from is null and order_id = any($1::uuid[]) group by order_id",
      [ours.map((o) => o.id)],
    );
    const report = {
      tickets: sold.length,
      orders: buyers.placed.length,
      refusedAfterRetry: buyers.refused.length,
      paid: buyers.placed.filter((p) => p.paid).length,
      passes: issued.length,
      kinds: figures,
      broken: Object.fromEntries(Object.entries(broken).map(([k, v]) => [k, Array.isArray(v) ? v.length : v])),
    };
    const dir = path.join(__dirname, "..", "artifacts");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "failover.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`failover: ${JSON.stringify(report)}`);

    expect(broken).toEqual(nothingBroken);
    // a refusal is a retry meeting the order its own first try made (its key abandoned by a dead replica), never a failure
    expect(buyers.refused.filter((r) => r.status !== 400)).toEqual([]);
    // the database's absence is a 503, never a 500
    expect(buyers.serverErrors.filter((e) => e.status === 500)).toEqual([]);
    expect(figures.every((f) => f.orders > 0)).toBe(true);
    expect(issued.map((r) => r.order_id).sort()).toEqual(
      ours
        .filter((o) => o.status === "complete")
        .map((o) => o.id)
        .sort(),
    );
    expect(issued.filter((r) => Number(r.n) !== 1)).toEqual([]);
  });
});
