/**
 * The production shape under failures: three replicas of every service behind the gateway, a
 * three-node JetStream cluster running the prod overlay's nats.conf with three-replica streams,
 * and hundreds of orders from concurrent buyers while service replicas are SIGKILLed at
 * random and one NATS node is killed and brought back. Once the system settles, nothing may be
 * lost or done twice. The figures (kills, settling time) go to artifacts/failover.json.
 *
 * FAILOVER_ORDERS sets the number of orders (default 200: the whole file takes about three and a
 * half minutes on a busy 2-core machine, a minute and a half of it starting 15 service processes).
 */
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import type { NatsServer } from "@ticketforge/nats";
import type { Supervised } from "../scripts/launcher/processes";
import { services, type ServiceName } from "../scripts/launcher/stack";
import type { Ticket } from "@ticketforge/common/api";
import { inBatches, onceKnown, type Reply, type User } from "./support/marketplace";
import { startWorld, type World } from "./support/world";

const orderCount = Number(process.env.FAILOVER_ORDERS ?? 200);
const buyerCount = 20;
const windowSeconds = 20;
/** A replica is SIGKILLed this often while the buyers are at work (the supervisor restarts it). */
const killEveryMs = 4_000;

jest.setTimeout(900_000);

let world: World;
const databases = {} as Record<ServiceName, Client>;

beforeAll(async () => {
  world = await startWorld({
    replicas: 3,
    natsCluster: 3,
    expirationWindowSeconds: windowSeconds,
    // 15 processes share one PostgreSQL server
    env: { DATABASE_POOL_SIZE: "4" },
  });
  for (const s of services) {
    databases[s] = new Client({ connectionString: world.stack.databaseUrls[s] });
    await databases[s].connect();
  }
}, 400_000);

afterAll(async () => {
  for (const c of Object.values(databases)) await c.end().catch(() => undefined);
  await world?.stop();
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const query = async <R>(s: ServiceName, text: string, values: unknown[] = []) => (await databases[s].query(text, values)).rows as R[];

/**
 * A client that keeps trying while the gateway has no replica to give it (503) or a replica died
 * with its connection (the request throws). A request that died that way may still have been
 * handled: the buyer does not know, as a real one would not.
 */
async function persist(send: () => Promise<Reply>, timeoutMs = 60_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await send().catch((err: Error) => ({ status: 0, body: err.message }) as Reply);
    if (![0, 502, 503].includes(reply.status) || Date.now() > deadline) return reply;
    await sleep(200);
  }
}

type Plan = "pay" | "cancel" | "expire";
interface Placed {
  orderId: string;
  ticketId: string;
  plan: Plan;
  paid?: boolean;
}

/**
 * SIGKILLs service replicas at random, never two of one service within 15 s, and one NATS node
 * once (brought back 10 s later); stopping waits for the node to be back and three replica kills.
 */
function startChaos(nodes: NatsServer[], replicas: Record<ServiceName, Supervised[]>) {
  let running = true;
  const kills: Array<{ at: number; what: string }> = [];
  const lastKillOf = new Map<ServiceName, number>();
  const natsKill = (async () => {
    await sleep(killEveryMs * 3);
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    await node.stop(); // SIGKILL
    kills.push({ at: Date.now(), what: `nats ${(node as NatsServer & { name?: string }).name ?? node.port}` });
    await sleep(10_000);
    await node.start();
    kills.push({ at: Date.now(), what: "nats node back" });
  })();
  const replicaKills = (async () => {
    // on a fast machine the buyers may finish early: the failures still happen, at least three
    while (running || kills.filter((k) => !k.what.startsWith("nats")).length < 3) {
      await sleep(killEveryMs);
      const candidates = services.filter((s) => Date.now() - (lastKillOf.get(s) ?? 0) > 15_000);
      const service = candidates[Math.floor(Math.random() * candidates.length)];
      if (!service) continue;
      const i = Math.floor(Math.random() * replicas[service].length);
      const pid = replicas[service][i].pid;
      if (!pid) continue;
      try {
        process.kill(pid, "SIGKILL"); // a crash: the supervisor starts it again
      } catch {
        continue; // already gone
      }
      lastKillOf.set(service, Date.now());
      kills.push({ at: Date.now(), what: `${service} replica ${i + 1}` });
    }
  })();
  return {
    kills,
    async stop() {
      running = false;
      await Promise.all([natsKill, replicaKills]);
    },
  };
}

describe("Three replicas of every service on a three-node JetStream cluster", () => {
  test(`When ${orderCount} orders are placed, paid, cancelled or left to expire while replicas and a NATS node are killed, then nothing is lost or done twice`, async () => {
    const { market, broker, stack } = world;
    const seller = await market.signUp("seller");
    const buyers = await market.signUpMany(buyerCount, "buyer");
    const tickets: Ticket[] = await inBatches(Array.from({ length: orderCount }, (_, i) => i), 10, (i) => market.sell(seller, `Seat ${i}`, 10 + (i % 50)));
    const ticketIds = tickets.map((t) => t.id);

    const chaos = startChaos(stack.natsNodes, stack.replicas);
    const placed: Placed[] = [];
    const refused: Reply[] = [];
    const plans: Plan[] = ["pay", "pay", "pay", "pay", "cancel", "cancel", "expire", "expire", "expire", "expire"];
    const loadStarted = Date.now();
    const buy = async (buyer: User, ticket: Ticket, i: number) => {
      const ordered = await persist(() => onceKnown(() => market.placeOrder(buyer, ticket.id), 60_000));
      if (ordered.status !== 201) {
        // after a lost answer the retry finds the ticket reserved by the order it made: that order
        // lives on unknown to the buyer and expires like any other
        refused.push(ordered);
        return;
      }
      const order: Placed = { orderId: ordered.body.id, ticketId: ticket.id, plan: plans[i % plans.length] };
      placed.push(order);
      if (order.plan === "pay") {
        const paid = await persist(() => onceKnown(() => market.pay(buyer, order.orderId), 60_000));
        order.paid = paid.status === 201;
      } else if (order.plan === "cancel") {
        await persist(() => market.cancel(buyer, order.orderId));
      }
    };
    await Promise.all(
      buyers.map(async (buyer, b) => {
        for (let i = b; i < tickets.length; i += buyers.length) await buy(buyer, tickets[i], i);
      }),
    );
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    await chaos.stop();
    const lastKill = Math.max(...chaos.kills.map((k) => k.at));
    // a refusal is the buyer's own retry meeting the order its lost request made, never a failure
    expect(refused.filter((r) => r.status !== 400)).toEqual([]);

    // settled: consumers idle and quiet, every order final (the unpaid ones expired), every outbox
    // published, every refund made
    const settle = async () => {
      await broker.settle(5_000, 2_500);
      const open = await query<{ n: string }>("orders", "select count(*) as n from orders where status not in ('complete', 'cancelled')");
      if (Number(open[0].n) > 0) throw new Error(`${open[0].n} orders still open`);
      for (const s of services) {
        const [{ n }] = await query<{ n: string }>(s, "select count(*) as n from outbox where published_at is null");
        if (Number(n) > 0) throw new Error(`${n} events still in the ${s} outbox`);
      }
      const [{ n }] = await query<{ n: string }>("payments", "select count(*) as n from payments where status = 'succeeded' and refund_due_at is not null");
      if (Number(n) > 0) throw new Error(`${n} refunds still due`);
      await broker.settle(5_000, 2_500);
    };
    const deadline = Date.now() + 240_000;
    for (;;) {
      try {
        await settle();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the system did not settle in 240 s: ${(err as Error).message}`);
        await sleep(1_000);
      }
    }
    const settleSeconds = (Date.now() - lastKill) / 1000;

    // no order lost: every 201 is in the orders database
    const ours = await query<{ id: string; ticket_id: string; status: string; refunded_at: Date | null }>(
      "orders",
      "select id, ticket_id, status, refunded_at from orders where ticket_id = any($1::uuid[])",
      [ticketIds],
    );
    const byId = new Map(ours.map((o) => [o.id, o]));
    const lost = placed.filter((p) => !byId.has(p.orderId));
    expect(lost).toEqual([]);

    // no ticket reserved or sold twice: at most one live order per ticket, one payment that stands
    const live = ours.filter((o) => o.status !== "cancelled");
    const liveTickets = new Map(live.map((o) => [o.ticket_id, o]));
    const doubleReserved = live.length - liveTickets.size;
    const payments = await query<{ order_id: string; status: string }>("payments", "select order_id, status from payments");
    const paymentsOfOurs = payments.filter((p) => byId.has(p.order_id));
    const standing = paymentsOfOurs.filter((p) => p.status === "succeeded");
    const doubleSold = standing.length - new Set(standing.map((p) => byId.get(p.order_id)!.ticket_id)).size;
    expect({ doubleReserved, doubleSold }).toEqual({ doubleReserved: 0, doubleSold: 0 });

    // every ticket's status in tickets matches its orders: sold to its complete order, else available
    const ticketRows = await query<{ id: string; status: string; order_id: string | null }>(
      "tickets",
      "select id, status, order_id from tickets where id = any($1::uuid[])",
      [ticketIds],
    );
    const mismatched = ticketRows.filter((t) => {
      const order = liveTickets.get(t.id);
      return order ? t.status !== "sold" || t.order_id !== order.id : t.status !== "available" || t.order_id !== null;
    });
    expect(mismatched).toEqual([]);
    expect(ticketRows).toHaveLength(orderCount);

    // every paid order is complete, or cancelled and refunded; every payment agrees with its order
    const paymentOf = new Map(paymentsOfOurs.map((p) => [p.order_id, p]));
    const wrongPayments = paymentsOfOurs.filter((p) => {
      const order = byId.get(p.order_id)!;
      return p.status === "succeeded" ? order.status !== "complete" : order.status !== "cancelled" || order.refunded_at === null;
    });
    expect(wrongPayments).toEqual([]);
    const paidButNot = placed.filter((p) => p.paid && !paymentOf.has(p.orderId));
    expect(paidButNot).toEqual([]);
    expect(ours.filter((o) => o.status === "complete" && paymentOf.get(o.id)?.status !== "succeeded")).toEqual([]);

    // a pass for every complete order and for no other, exactly one each, whatever was killed
    const issued = await query<{ order_id: string; n: string }>(
      "passes",
      "select order_id, count(*) as n from passes where transferred_from is null and order_id = any($1::uuid[]) group by order_id",
      [ours.map((o) => o.id)],
    );
    expect(issued.map((r) => r.order_id).sort()).toEqual(ours.filter((o) => o.status === "complete").map((o) => o.id).sort());
    expect(issued.filter((r) => Number(r.n) !== 1)).toEqual([]);

    // every outbox empty, nothing dead-lettered
    for (const s of services) {
      expect(await query(s, "select id from outbox where published_at is null")).toEqual([]);
    }
    expect(await broker.deadLetters()).toEqual([]);

    const replicaKills = chaos.kills.filter((k) => !k.what.startsWith("nats"));
    expect(replicaKills.length).toBeGreaterThanOrEqual(3);
    expect(chaos.kills.some((k) => k.what === "nats node back")).toBe(true);

    const figures = {
      orders: placed.length,
      refusedOrAmbiguous: refused.length,
      paid: placed.filter((p) => p.paid).length,
      complete: ours.filter((o) => o.status === "complete").length,
      refunded: ours.filter((o) => o.refunded_at !== null).length,
      cancelled: ours.filter((o) => o.status === "cancelled").length,
      loadSeconds,
      ordersPerSecondUnderFailures: Math.round((placed.length / loadSeconds) * 10) / 10,
      replicaKills: replicaKills.length,
      natsNodeKills: chaos.kills.filter((k) => k.what.startsWith("nats") && k.what !== "nats node back").length,
      settleSecondsAfterLastKill: Math.round(settleSeconds * 10) / 10,
      lost: lost.length,
      doubleReserved,
      doubleSold,
      passes: issued.length,
      kills: chaos.kills.map((k) => ({ ...k, at: Math.round((k.at - loadStarted) / 100) / 10 })),
    };
    const dir = path.join(__dirname, "..", "artifacts");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "failover.json"), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`failover: ${JSON.stringify(figures)}`);
  });
});
