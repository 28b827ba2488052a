/**
 * What the failure tests share: buyers at work while something is killed, the time the system
 * takes to settle afterwards, and the checks, through the API and the databases, that nothing was
 * lost or done twice.
 */
import { randomUUID } from "node:crypto";
import { Pool } from "pg";
import { databaseUnavailable } from "@ticketforge/common";
import type { Ticket } from "@ticketforge/common/api";
import { services, type ServiceName } from "../../scripts/launcher/stack";
import { inBatches, onceKnown, type Reply, type User } from "./marketplace";
import type { World } from "./world";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `npm run test:long` (TEST_SIZE=long): the full sizes; `npm test` runs short ones. */
export { longRun as long } from "./size";

/**
 * A connection pool per service database that rides out a restart of the server: a query the
 * server could not take (down, recovering) is tried again until `timeoutMs`.
 */
export class Databases {
  private readonly pools = {} as Record<ServiceName, Pool>;
  constructor(urls: Record<ServiceName, string>) {
    for (const s of services) {
      this.pools[s] = new Pool({ connectionString: urls[s], max: 2 });
      this.pools[s].on("error", () => undefined);
    }
  }

  async query<R>(service: ServiceName, text: string, values: unknown[] = [], timeoutMs = 60_000): Promise<R[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return (await this.pools[service].query(text, values)).rows as R[];
      } catch (err) {
        if (!databaseUnavailable(err) || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  }

  async close() {
    await Promise.all(Object.values(this.pools).map((p) => p.end().catch(() => undefined)));
  }
}

export type Plan = "pay" | "cancel" | "expire";
export interface Placed {
  orderId: string;
  ticketId: string;
  plan: Plan;
  paid?: boolean;
}
const plans: Plan[] = ["pay", "pay", "pay", "pay", "cancel", "cancel", "expire", "expire", "expire", "expire"];

/**
 * Buyers who place, pay and cancel orders as a client that knows what it does: each purchase
 * attempt has its own Idempotency-Key, and a request that got no answer, a 502/503 or a 409 is
 * sent again with that key (a request that died with its replica may have been handled; the key
 * makes the retry safe). Every answer of 500 or more is counted, with its time.
 */
export class Buyers {
  readonly placed: Placed[] = [];
  /** Orders refused after a retry: the first try made the order, but its key was still at work until it was abandoned. */
  readonly refused: Reply[] = [];
  readonly serverErrors: Array<{ at: number; status: number; what: string }> = [];
  /** Payments that met 404s (payments did not know the order yet) for more than 5 s. */
  readonly latePayments: Array<{ orderId: string; at: number; waitedMs: number }> = [];
  private next = 0;

  constructor(private readonly world: World) {}

  private async persist(what: string, send: () => Promise<Reply>, timeoutMs = 90_000): Promise<Reply> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const seen: Array<number | string> = [];
    for (;;) {
      const reply = await send().catch((err: Error) => ({ status: 0, body: err.message }) as Reply);
      seen.push(reply.status === 0 ? String(reply.body) : reply.status);
      if (reply.status >= 500) this.serverErrors.push({ at: Date.now(), status: reply.status, what });
      if (![0, 409, 502, 503].includes(reply.status) || Date.now() > deadline) {
        if (process.env.TEST_SETTLE_LOG && Date.now() - started > 5_000)
          console.log(`slow ${what}: ${Date.now() - started} ms, answers ${JSON.stringify(seen)}`);
        return reply;
      }
      await sleep(200);
    }
  }

  private async buy(buyer: User, ticket: Ticket) {
    const { market } = this.world;
    const plan = plans[this.next++ % plans.length];
    const orderKey = randomUUID();
    const ordered = await this.persist("order", () =>
      onceKnown(
        () => market.request("POST", "/api/orders", { as: buyer, body: { ticketId: ticket.id }, idempotencyKey: orderKey }),
        60_000,
      ),
    );
    if (ordered.status !== 201) {
      this.refused.push(ordered);
      return;
    }
    const order: Placed = { orderId: ordered.body.id, ticketId: ticket.id, plan };
    this.placed.push(order);
    if (plan === "pay") {
      const payKey = randomUUID();
      const askedAt = Date.now();
      const paid = await this.persist("payment", () =>
        onceKnown(
          () =>
            market.request("POST", "/api/payments", {
              as: buyer,
              body: { orderId: order.orderId, token: "tok_visa" },
              idempotencyKey: payKey,
            }),
          60_000,
        ),
      );
      order.paid = paid.status === 201;
      if (Date.now() - askedAt > 5_000) this.latePayments.push({ orderId: order.orderId, at: askedAt, waitedMs: Date.now() - askedAt });
    } else if (plan === "cancel") {
      await this.persist("cancel", () => market.cancel(buyer, order.orderId));
    }
  }

  /** The buyers work through `tickets` (each one at a time, `pauseMs` between purchases) until they run out or `until()` says stop. */
  async work(buyers: User[], tickets: Ticket[], until: () => boolean = () => false, pauseMs = 0): Promise<void> {
    let i = 0;
    await Promise.all(
      buyers.map(async (buyer) => {
        while (i < tickets.length && !until()) {
          await this.buy(buyer, tickets[i++]);
          if (pauseMs) await sleep(pauseMs);
        }
      }),
    );
  }
}

/** Tickets for sale, `count` of them, created before the failures start. */
export async function ticketsOnSale(world: World, seller: User, count: number): Promise<Ticket[]> {
  return inBatches(
    Array.from({ length: count }, (_, i) => i),
    10,
    (i) => world.market.sell(seller, `Seat ${i}`, 10 + (i % 50)),
  );
}

/**
 * Waits until the system is at rest and every order whose window ended is final: consumers idle
 * and quiet, outboxes published, refunds made. Returns the seconds it took from `since`.
 */
export async function settled(world: World, db: Databases, since: number, timeoutMs = 240_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await world.broker.settle(5_000, 2_500);
      const [{ n: open }] = await db.query<{ n: string }>(
        "orders",
        "select count(*) as n from orders where status not in ('complete', 'cancelled') and expires_at < now()",
      );
      if (Number(open) > 0) throw new Error(`${open} orders still open after their window`);
      for (const s of services) {
        const [{ n }] = await db.query<{ n: string }>(s, "select count(*) as n from outbox where published_at is null");
        if (Number(n) > 0) throw new Error(`${n} events still in the ${s} outbox`);
      }
      const [{ n: due }] = await db.query<{ n: string }>(
        "payments",
        "select count(*) as n from payments where status = 'succeeded' and refund_due_at is not null",
      );
      if (Number(due) > 0) throw new Error(`${due} refunds still due`);
      await world.broker.settle(5_000, 2_500);
      // the last 2.5 s of quiet were the proof, not part of the settling
      return Math.round((Date.now() - since - 2_500) / 100) / 10;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the system did not settle in ${timeoutMs / 1000} s: ${(err as Error).message}`);
      const reason = (err as Error).message.slice(0, 300);
      if (process.env.TEST_SETTLE_LOG) console.log(`settling ${((Date.now() - since) / 1000).toFixed(1)} s: ${reason}`);
      await sleep(500);
    }
  }
}

/**
 * Once every order is final: what broke, by kind, each an empty list when nothing did. Lost: an
 * order a buyer was given that the orders database does not hold. Doubled: two live orders of one
 * ticket, two standing payments of one. Mismatched: a ticket whose state disagrees with its
 * order. Wrong payments: a payment whose order is neither complete nor refunded.
 */
/** What brokenInvariants finds when nothing was lost, doubled or left undone. */
export const nothingBroken = {
  lost: [],
  open: [],
  doubleReserved: 0,
  doubleSold: 0,
  missingTickets: 0,
  mismatchedTickets: [],
  wrongPayments: [],
  paidButNoPayment: [],
  completeWithoutPayment: [],
  unpublished: [],
  deadLetters: [],
};

export async function brokenInvariants(world: World, db: Databases, buyers: Buyers, tickets: Ticket[]) {
  const ticketIds = tickets.map((t) => t.id);
  const ours = await db.query<{ id: string; ticket_id: string; status: string; refunded_at: Date | null }>(
    "orders",
    "select id, ticket_id, status, refunded_at from orders where ticket_id = any($1::uuid[])",
    [ticketIds],
  );
  const byId = new Map(ours.map((o) => [o.id, o]));
  const live = ours.filter((o) => o.status !== "cancelled");
  const liveTickets = new Map(live.map((o) => [o.ticket_id, o]));
  const payments = (await db.query<{ order_id: string; status: string }>("payments", "select order_id, status from payments")).filter((p) =>
    byId.has(p.order_id),
  );
  const standing = payments.filter((p) => p.status === "succeeded");
  const paymentOf = new Map(payments.map((p) => [p.order_id, p]));
  const ticketRows = await db.query<{ id: string; status: string; order_id: string | null }>(
    "tickets",
    "select id, status, order_id from tickets where id = any($1::uuid[])",
    [ticketIds],
  );
  const outboxes: string[] = [];
  for (const s of services) {
    for (const r of await db.query<{ id: string }>(s, "select id from outbox where published_at is null")) outboxes.push(`${s} ${r.id}`);
  }
  return {
    lost: buyers.placed.filter((p) => !byId.has(p.orderId)).map((p) => p.orderId),
    open: ours.filter((o) => o.status !== "complete" && o.status !== "cancelled").map((o) => o.id),
    doubleReserved: live.length - liveTickets.size,
    doubleSold: standing.length - new Set(standing.map((p) => byId.get(p.order_id)!.ticket_id)).size,
    missingTickets: ticketIds.length - ticketRows.length,
    mismatchedTickets: ticketRows
      .filter((t) => {
        const order = liveTickets.get(t.id);
        return order ? t.status !== "sold" || t.order_id !== order.id : t.status !== "available" || t.order_id !== null;
      })
      .map((t) => t.id),
    wrongPayments: payments
      .filter((p) => {
        const order = byId.get(p.order_id)!;
        return p.status === "succeeded" ? order.status !== "complete" : order.status !== "cancelled" || order.refunded_at === null;
      })
      .map((p) => p.order_id),
    paidButNoPayment: buyers.placed.filter((p) => p.paid && !paymentOf.has(p.orderId)).map((p) => p.orderId),
    completeWithoutPayment: ours.filter((o) => o.status === "complete" && paymentOf.get(o.id)?.status !== "succeeded").map((o) => o.id),
    unpublished: outboxes,
    deadLetters: (await world.broker.deadLetters()).map((d) => `${d.consumer}: ${d.error.split("\n")[0]}`),
  };
}

/** What a run of kills cost: how many of each 5xx status the buyers got between `from` and `to`. */
export function serverErrorsBetween(buyers: Buyers, from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of buyers.serverErrors) if (e.at >= from && e.at <= to) counts[e.status] = (counts[e.status] ?? 0) + 1;
  return counts;
}

export interface PhaseFigures {
  /** What was killed. */
  kind: string;
  /** Orders placed while it happened. */
  orders: number;
  /** From the moment the last killed process ran again to a settled system. */
  settleSeconds: number;
  /** The buyers' answers of 500 or more while it happened and until it settled, by status. */
  serverErrors: Record<string, number>;
}

/**
 * One kind of failure under load: the buyers work through `tickets` while `kill` kills and
 * restarts what it kills; then the time to settle is measured from its return.
 */
export async function underLoad(
  world: World,
  db: Databases,
  buyers: Buyers,
  load: { buyers: User[]; tickets: Ticket[]; pauseMs: number },
  kind: string,
  kill: () => Promise<void>,
): Promise<PhaseFigures> {
  let killing = true;
  const before = buyers.placed.length;
  const working = buyers.work(load.buyers, load.tickets, () => !killing, load.pauseMs);
  await sleep(1_000); // the buyers are at work
  const from = Date.now();
  await kill();
  const back = Date.now();
  killing = false;
  await working;
  if (process.env.TEST_SETTLE_LOG)
    console.log(`${kind}: the buyers finished ${((Date.now() - back) / 1000).toFixed(1)} s after the last kill`);
  const settleSeconds = await settled(world, db, back);
  return { kind, orders: buyers.placed.length - before, settleSeconds, serverErrors: serverErrorsBetween(buyers, from, Date.now()) };
}

/** SIGKILLs the stack's own PostgreSQL (its supervisor starts it again, as `npm start`'s does) and waits until it answers. */
export async function killPostgres(world: World, db: Databases): Promise<void> {
  const server = world.stack.postgres;
  if (!server) throw new Error("the stack runs on the test run's shared PostgreSQL: start it with ownPostgres");
  const pid = server.process.pid!;
  process.kill(pid, "SIGKILL");
  while (server.process.pid === pid || !server.process.running) await sleep(100);
  await db.query("orders", "select 1");
}

/** Waits until every order's window has ended and the system settled: then every order is final. */
export async function allFinal(world: World, db: Databases): Promise<void> {
  const [{ last }] = await db.query<{ last: Date | null }>("orders", "select max(expires_at) as last from orders");
  if (last) await sleep(Math.max(0, last.getTime() - Date.now()));
  await settled(world, db, Date.now());
}

/** Where a late payment's order spent its time: committed, published, handled by payments (ms after the buyer asked to pay). */
export async function lateOrderTimeline(db: Databases, late: { orderId: string; at: number }) {
  const [out] = await db.query<{ id: string; created_at: Date; published_at: Date | null }>(
    "orders",
    "select id, created_at, published_at from outbox where subject = 'order.created' and payload->'data'->>'id' = $1",
    [late.orderId],
  );
  const [handled] = out
    ? await db.query<{ handled_at: Date }>("payments", "select handled_at from inbox where event_id = $1", [out.id])
    : [];
  const ms = (d?: Date | null) => (d ? d.getTime() - late.at : null);
  return {
    orderId: late.orderId,
    committed: ms(out?.created_at),
    published: ms(out?.published_at),
    handledByPayments: ms(handled?.handled_at),
  };
}
