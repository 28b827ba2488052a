import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { sql } from "@ticketforge/common";
import { aUser, openTestDatabase, publish } from "@ticketforge/common/testing";
import { liveOrdersOf, placeOrder, recentHold } from "../src/db/orders";
import { orders } from "../src/service";
import { acked, givenTicket } from "./helpers";

// the default cap (5 live orders); a rate limit above what the cap test needs
const under = serviceUnderTest(orders, { config: { ORDERS_RATE_LIMIT_PER_MINUTE: 12 } });
const api = () => request(under.service.app);

const order = (cookie: string, ticketId: string) => api().post("/api/orders").set("Cookie", cookie).send({ ticketId });

describe("POST /api/orders: how much one buyer may hold", () => {
  test("When one buyer orders ten tickets at once, then exactly five are reserved and the rest are refused with 400", async () => {
    const buyer = aUser();
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await givenTicket(under.service));
    const replies = await Promise.all(tickets.map((t) => order(buyer.cookie, t.id)));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(5);
    const refused = replies.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    expect(refused[0].body).toEqual({
      errors: [{ message: "You already hold 5 unpaid orders, the most one buyer may hold; pay or cancel one first" }],
    });
    const held = await api().get("/api/orders").set("Cookie", buyer.cookie);
    expect(held.body.filter((o: { status: string }) => o.status === "created")).toHaveLength(5);

    // giving one up makes room for one more; another buyer was never limited by this one
    const anyHeld = replies.find((r) => r.status === 201)!.body.id;
    expect((await api().delete(`/api/orders/${anyHeld}`).set("Cookie", buyer.cookie)).status).toBe(204);
    const free = tickets.find((t) => !held.body.some((o: { ticket: { id: string } }) => o.ticket.id === t.id))!;
    expect((await order(buyer.cookie, free.id)).status).toBe(201);
    expect((await order(aUser().cookie, (await givenTicket(under.service)).id)).status).toBe(201);
  });

  test("When a buyer with a long history orders again, then the cap counts their live orders and the cool-down their cancelled holds of the ticket, each from its own index, not their history", async () => {
    const veteran = aUser();
    const db = under.service.ctx.db;
    // 20,000 settled orders of one buyer, each for a ticket of its own
    await sql`with t as (
        insert into tickets (id, title, price_cents, user_id, version)
        select gen_random_uuid(), 'Old ' || g, 1000, 'a-seller', 0 from generate_series(1, 20000) g
        returning id
      )
      insert into orders (user_id, ticket_id, status, expires_at, version, price_cents)
      select ${veteran.id}, id, 'cancelled', now(), 1, 1000 from t`.execute(db);
    await sql`analyze orders`.execute(db);
    const plan = (await sql<{ "QUERY PLAN": string }>`explain select (${liveOrdersOf(veteran.id)})`.execute(db)).rows
      .map((r) => r["QUERY PLAN"])
      .join("\n");
    expect(plan).toMatch(/orders_user_live/);
    expect(plan).not.toMatch(/orders_user_newest|Seq Scan/);
    // the cool-down after an unpaid hold reads their cancelled orders of this one ticket, not all of them
    const ticket = await givenTicket(under.service);
    const holds = (
      await sql<{ "QUERY PLAN": string }>`explain select (${recentHold({ userId: veteran.id, ticketId: ticket.id }, 60)})`.execute(db)
    ).rows
      .map((r) => r["QUERY PLAN"])
      .join("\n");
    expect(holds).toMatch(/orders_cancelled_holds/);
    expect(holds).not.toMatch(/orders_user_newest|Seq Scan/);
    // and the cap still holds for them
    expect((await order(veteran.cookie, (await givenTicket(under.service)).id)).status).toBe(201);
  });

  test("When new buyers order first and buyers with long histories after them, then PostgreSQL keeps one plan of the order's statement, not one per order", async () => {
    // a connection of its own, so that every execution reaches the same prepared statement
    const database = await openTestDatabase(orders, { poolSize: 1 });
    try {
      const { db } = database;
      // 20 buyers with 150 settled orders each, as the bench's buyers have: the cool-down's look at
      // a buyer's orders grew with their number, so after five cheap first orders PostgreSQL found
      // the generic plan dear and planned the statement again at every order (migration 006)
      await sql`with t as (
          insert into tickets (id, title, price_cents, user_id, version)
          select gen_random_uuid(), 'Old ' || g, 1000, 'a-seller', 0 from generate_series(1, 3000) g returning id
        )
        insert into orders (user_id, ticket_id, status, expires_at, version, price_cents)
        select 'veteran-' || (row_number() over () % 20), id, 'cancelled', now(), 1, 1000 from t`.execute(db);
      await sql`analyze orders`.execute(db);
      const limits = { maxLive: 100, allowed: sql<boolean>`true`, reholdAfterSeconds: 60 };
      for (let i = 0; i < 10; i++) {
        const [ticket] = (
          await sql<{ id: string }>`insert into tickets (id, title, price_cents, user_id, version)
            values (gen_random_uuid(), 'New', 1000, 'a-seller', 0) returning id`.execute(db)
        ).rows;
        const userId = i < 5 ? `newcomer-${i}` : `veteran-${i}`;
        expect(await placeOrder(db, { userId, ticketId: ticket.id, expiresAt: new Date(Date.now() + 60_000) }, limits)).toBeDefined();
      }
      const planned = await sql<{ generic: number; custom: number }>`select generic_plans::int as generic, custom_plans::int as custom
        from pg_prepared_statements where statement like 'with ticket as%insert into orders%'`.execute(db);
      // PostgreSQL's default: the first five executions planned for their values, then the generic plan kept
      expect(planned.rows).toEqual([{ generic: 5, custom: 5 }]);
    } finally {
      await database.close();
    }
  });

  test("When one buyer places orders faster than the limit per minute, then 429 with Retry-After, and other buyers are not slowed", async () => {
    const hasty = aUser();
    const unknownTicket = "0b7c1c1e-4a4f-4a39-9d8e-5a2a2f1d3c11";
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await order(hasty.cookie, unknownTicket)).status);
    expect(statuses).toEqual(Array(12).fill(404));
    const limited = await order(hasty.cookie, unknownTicket);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(limited.body).toEqual({
      errors: [{ message: expect.stringMatching(/^You are placing orders too quickly, try again in \d+ seconds$/) }],
    });
    expect((await order(aUser().cookie, unknownTicket)).status).toBe(404);
  });

  test("When a buyer keeps ordering a ticket someone else holds, then each refusal counts toward the limit too, and no order or event is left of them", async () => {
    const ticket = await givenTicket(under.service);
    expect((await order(aUser().cookie, ticket.id)).status).toBe(201);
    const persistent = aUser();
    const replies = [];
    for (let i = 0; i < 13; i++) replies.push(await order(persistent.cookie, ticket.id));
    expect(replies.map((r) => r.status)).toEqual([...Array(12).fill(400), 429]);
    expect(replies[0].body).toEqual({ errors: [{ message: "Ticket is already reserved" }] });
    const theirs = await sql<{ n: number }>`select count(*)::int as n from orders where user_id = ${persistent.id}`.execute(
      under.service.ctx.db,
    );
    expect(theirs.rows[0].n).toBe(0);
    const events = await sql<{
      n: number;
    }>`select count(*)::int as n from outbox where payload->'data'->>'userId' = ${persistent.id}`.execute(under.service.ctx.db);
    expect(events.rows[0].n).toBe(0);
  });

  test("When a buyer cancels a hold and orders the same ticket again, then 429 with Retry-After until well past the longest hold, while another buyer may order it at once", async () => {
    const buyer = aUser();
    const ticket = await givenTicket(under.service);
    const held = await order(buyer.cookie, ticket.id);
    expect(held.status).toBe(201);
    expect((await api().delete(`/api/orders/${held.body.id}`).set("Cookie", buyer.cookie)).status).toBe(204);

    const again = await order(buyer.cookie, ticket.id);
    expect(again.status).toBe(429);
    expect(again.body.errors[0].message).toMatch(/^You held this ticket a moment ago; you can hold it again in \d+ seconds$/);
    // the window (900 s) and the cool-down (900 s) from the first hold's start
    expect(Number(again.headers["retry-after"])).toBeGreaterThan(1_700);

    // the buyer may hold other tickets; someone else may hold this one now
    expect((await order(buyer.cookie, (await givenTicket(under.service)).id)).status).toBe(201);
    expect((await order(aUser().cookie, ticket.id)).status).toBe(201);
  });

  test("When the buyer's order was cancelled because the seller changed the ticket, then they may order it again at once, at the new price", async () => {
    const buyer = aUser();
    const ticket = await givenTicket(under.service, { price: 100 });
    const refused = await order(buyer.cookie, ticket.id);
    expect(refused.status).toBe(201);
    const edit = await publish(under.service, "ticket.updated", {
      ...ticket,
      price: 100_000,
      orderId: null,
      status: "available",
      version: 1,
    });
    await acked(under.service, "ticket.updated", edit.seq);
    await publish(under.service, "ticket.reservation_refused", {
      orderId: refused.body.id,
      ticketId: ticket.id,
      reason: "ticket changed",
      price: 100_000,
      version: 1,
    });
    await eventually(
      async () => (await api().get(`/api/orders/${refused.body.id}`).set("Cookie", buyer.cookie)).body.status === "cancelled",
    );

    const again = await order(buyer.cookie, ticket.id);
    expect([again.status, again.body.ticket?.price]).toEqual([201, 1000]);
  });
});
