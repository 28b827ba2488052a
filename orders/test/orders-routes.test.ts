import { aUser, publish } from "@ticketforge/common/testing";
import { randomUUID } from "node:crypto";
import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { sql } from "@ticketforge/common";
import type { OrdersContext } from "../src/app";
import { placeOrder } from "../src/db/orders";
import { orders } from "../src/service";
import { givenOrder, givenTicket, settled } from "./helpers";

const api = () => request(under.service.app);

const under = serviceUnderTest(orders);

const eventsAbout = (subject: string, orderId: string) => under.recorder.of(subject).filter((e) => e.data.id === orderId);

/** Pays for an order the way the payments service reports it, and waits until it is complete. */
async function paid(orderId: string, cookie: string) {
  await publish(under.service, "payment.completed", { id: randomUUID(), orderId, amount: 2050, providerRef: "ch_test" });
  await eventually(async () => (await api().get(`/api/orders/${orderId}`).set("Cookie", cookie)).body.status === "complete");
}

describe("POST /api/orders", () => {
  test("When a buyer orders an available ticket, then 201 with the order and order.created is published", async () => {
    const ticket = await givenTicket(under.service, { title: "Opera", price: 2050 });
    const buyer = aUser();
    const before = Date.now();
    const res = await api().post("/api/orders").set("Cookie", buyer.cookie).send({ ticketId: ticket.id });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      userId: buyer.id,
      status: "created",
      expiresAt: expect.any(String),
      version: 0,
      ticket: { id: ticket.id, title: "Opera", price: 20.5 },
      refund: null,
      cancellation: null,
    });
    const expiresIn = Date.parse(res.body.expiresAt) - before;
    expect(expiresIn).toBeGreaterThanOrEqual(900_000);
    expect(expiresIn).toBeLessThan(910_000);
    const event = await under.recorder.waitFor("order.created", (d) => d.id === res.body.id);
    expect(event!.data).toEqual({
      id: res.body.id,
      status: "created",
      userId: buyer.id,
      expiresAt: res.body.expiresAt,
      version: 0,
      // priced at the ticket as ticket.created described it
      ticket: { id: ticket.id, price: 2050, version: 0 },
    });
  });

  test("When fifty buyers order the same ticket at once, then exactly one gets it and one order.created leaves", async () => {
    const ticket = await givenTicket(under.service);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id })),
    );
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status === 400);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const r of lost) expect(r.body).toEqual({ errors: [{ message: "Ticket is already reserved" }] });
    await under.recorder.waitFor("order.created", (d) => d.id === won[0].body.id);
    await settled(under.service, under.recorder);
    expect(under.recorder.of("order.created").filter((e) => e.data.ticket.id === ticket.id)).toHaveLength(1);
  });

  test("When another buyer's order for the ticket is being placed right now, then 400 Ticket is already reserved at once, without waiting for its commit", async () => {
    const ticket = await givenTicket(under.service);
    // the other buyer's unit of work: its order inserted, its transaction still open
    let inserted!: () => void;
    const isInserted = new Promise<void>((resolve) => (inserted = resolve));
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const ctx = under.service.ctx as unknown as OrdersContext;
    const other = ctx
      .work(async (uow) => {
        const limits = { maxLive: 5, allowed: sql<boolean>`true`, reholdAfterSeconds: 0 };
        try {
          const placed = await placeOrder(
            uow.db,
            { userId: randomUUID(), ticketId: ticket.id, expiresAt: new Date(Date.now() + 60_000) },
            limits,
          );
          expect(placed).toBeDefined();
        } finally {
          inserted(); // also when the insert failed, so that the test goes on and says why
        }
        await finished;
        throw new Error("the other buyer gives up: rolled back");
      })
      .catch((err: Error) => err.message);
    await isInserted;

    const answer = api()
      .post("/api/orders")
      .set("Cookie", aUser().cookie)
      .send({ ticketId: ticket.id })
      .then((res) => res);
    const first = await Promise.race([
      answer,
      new Promise<"still waiting">((resolve) => setTimeout(() => resolve("still waiting"), 3_000)),
    ]);
    finish(); // whatever happened, the other transaction ends here, so nothing is left hanging
    expect(await other).toBe("the other buyer gives up: rolled back");
    expect(first).not.toBe("still waiting");
    const res = await answer;
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Ticket is already reserved" }] });

    // the other order rolled back: the ticket is still available, to anyone who asks again
    expect((await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id })).status).toBe(201);
  });

  test("When the ticket id is typed in capitals, then the order and its event name the ticket as it was announced", async () => {
    const ticket = await givenTicket(under.service);
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id.toUpperCase() });
    expect(res.status).toBe(201);
    expect(res.body.ticket.id).toBe(ticket.id);
    expect((await under.recorder.waitFor("order.created", (d) => d.id === res.body.id))!.data.ticket.id).toBe(ticket.id);
  });

  test("When the ticket is reserved by someone else, then 400 Ticket is already reserved", async () => {
    const { ticket } = await givenOrder(under.service);
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Ticket is already reserved" }] });
  });

  test("When the ticket was sold, then nobody can order it again", async () => {
    const { ticket, order, buyer } = await givenOrder(under.service);
    await paid(order.id, buyer.cookie);
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Ticket is already reserved" }] });
  });

  test("When the order holding a ticket is cancelled, then the ticket can be ordered again", async () => {
    const { ticket, order, buyer } = await givenOrder(under.service);
    await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie).expect(204);
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id });
    expect(res.status).toBe(201);
  });

  test("When sellers order their own ticket, then 400 You cannot buy your own ticket", async () => {
    const seller = aUser();
    const ticket = await givenTicket(under.service, { userId: seller.id });
    const res = await api().post("/api/orders").set("Cookie", seller.cookie).send({ ticketId: ticket.id });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "You cannot buy your own ticket" }] });
  });

  test.each([
    ["unknown", () => randomUUID()],
    ["malformed", () => "not-a-ticket-id"],
  ])("When the ticket id is %s, then 404", async (_, ticketId) => {
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticketId() });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Ticket not found" }] });
  });

  test.each([[{}], [{ ticketId: 42 }], [{ ticketId: "  " }], [{ ticketId: null }]])(
    "When the body is %j, then 400 naming ticketId",
    async (body) => {
      const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ message: expect.any(String), field: "ticketId" }] });
    },
  );

  test("When the body is not an object, then 400 and never a 500", async () => {
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send([1, 2]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: expect.any(String) }]);
  });

  test("When the JSON is malformed, then 400 with the error shape", async () => {
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).set("Content-Type", "application/json").send('{"ticketId":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Malformed JSON in request body" }] });
  });

  test("When not signed in, then 401 and no order", async () => {
    const ticket = await givenTicket(under.service);
    const res = await api().post("/api/orders").send({ ticketId: ticket.id });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: "Not authorized" }] });
    await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id }).expect(201);
  });
});

describe("POST /api/orders with an Idempotency-Key", () => {
  const order = (cookie: string, ticketId: string, key: string) =>
    api().post("/api/orders").set("Cookie", cookie).set("Idempotency-Key", key).send({ ticketId });

  test("When a buyer retries an order with the same key, then the retry gets the first answer and one order exists", async () => {
    const ticket = await givenTicket(under.service);
    const buyer = aUser();
    const key = randomUUID();
    const first = await order(buyer.cookie, ticket.id, key);
    expect(first.status).toBe(201);
    const retry = await order(buyer.cookie, ticket.id, key);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    const mine = (await api().get("/api/orders").set("Cookie", buyer.cookie)).body.filter(
      (o: { ticket: { id: string } }) => o.ticket.id === ticket.id,
    );
    expect(mine).toHaveLength(1);
    await settled(under.service, under.recorder);
    expect(under.recorder.of("order.created").filter((e) => e.data.ticket.id === ticket.id)).toHaveLength(1);
  });

  test("When ten copies of one keyed order arrive at once, then one order is made and each copy gets it or is told to retry (409)", async () => {
    const ticket = await givenTicket(under.service);
    const buyer = aUser();
    const key = randomUUID();
    const replies = await Promise.all(Array.from({ length: 10 }, () => order(buyer.cookie, ticket.id, key)));
    expect(replies.filter((r) => r.status !== 201 && r.status !== 409)).toEqual([]);
    expect(new Set(replies.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
    for (const r of replies.filter((r) => r.status === 409)) expect(r.headers["retry-after"]).toBe("1");
    expect(
      (await api().get("/api/orders").set("Cookie", buyer.cookie)).body.filter(
        (o: { ticket: { id: string } }) => o.ticket.id === ticket.id,
      ),
    ).toHaveLength(1);
  });

  test("When the same key comes with another ticket, then 422 and no order for that ticket", async () => {
    const [a, b] = [await givenTicket(under.service), await givenTicket(under.service)];
    const buyer = aUser();
    const key = randomUUID();
    expect((await order(buyer.cookie, a.id, key)).status).toBe(201);
    const other = await order(buyer.cookie, b.id, key);
    expect(other.status).toBe(422);
    expect(other.body.errors[0].message).toMatch(/Idempotency-Key was used with another request/);
    expect(
      (await api().get("/api/orders").set("Cookie", buyer.cookie)).body.filter((o: { ticket: { id: string } }) => o.ticket.id === b.id),
    ).toEqual([]);
  });

  test("When another buyer sends the same key, then it is their own request: the first buyer's order is never shown to them", async () => {
    const ticket = await givenTicket(under.service);
    const key = randomUUID();
    expect((await order(aUser().cookie, ticket.id, key)).status).toBe(201);
    const stranger = await order(aUser().cookie, ticket.id, key);
    expect(stranger.status).toBe(400);
    expect(stranger.body).toEqual({ errors: [{ message: "Ticket is already reserved" }] });
  });

  test("When the key is empty or longer than 255 characters, then 400 naming Idempotency-Key", async () => {
    const ticket = await givenTicket(under.service);
    for (const key of ["", "k".repeat(256)]) {
      const res = await order(aUser().cookie, ticket.id, key);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe("Idempotency-Key");
    }
  });
});

describe("GET /api/orders", () => {
  test("When buyers list their orders, then they see only their own, newest first, each with its ticket", async () => {
    const buyer = aUser();
    const first = await givenOrder(under.service, buyer, { title: "First", price: 1000 });
    const second = await givenOrder(under.service, buyer, { title: "Second", price: 1999 });
    await givenOrder(under.service); // someone else's
    const res = await api().get("/api/orders").set("Cookie", buyer.cookie);
    expect(res.status).toBe(200);
    expect(res.body.map((o: { id: string }) => o.id)).toEqual([second.order.id, first.order.id]);
    expect(res.body[0].ticket).toEqual({ id: second.ticket.id, title: "Second", price: 19.99 });
    expect(res.body[1].ticket).toEqual({ id: first.ticket.id, title: "First", price: 10 });
  });

  test("When a user has no orders, then an empty list", async () => {
    const res = await api().get("/api/orders").set("Cookie", aUser().cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  test("When not signed in, then 401", async () => {
    const res = await api().get("/api/orders");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: "Not authorized" }] });
  });
});

describe("GET /api/orders/:id", () => {
  test("When buyers look at their order, then 200 with it", async () => {
    const { order, buyer } = await givenOrder(under.service);
    const res = await api().get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(order);
  });

  test("When someone else looks at the order, then 404 as for an unknown order, so ids cannot be probed", async () => {
    const { order } = await givenOrder(under.service);
    const res = await api().get(`/api/orders/${order.id}`).set("Cookie", aUser().cookie);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Order not found" }] });
  });

  test("When not signed in, then 401", async () => {
    const { order } = await givenOrder(under.service);
    expect((await api().get(`/api/orders/${order.id}`)).status).toBe(401);
  });

  test.each([
    ["unknown", () => randomUUID()],
    ["malformed", () => "12345"],
  ])("When the order id is %s, then 404", async (_, id) => {
    const res = await api().get(`/api/orders/${id()}`).set("Cookie", aUser().cookie);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Order not found" }] });
  });
});

describe("DELETE /api/orders/:id", () => {
  test("When buyers cancel their order, then 204, it is cancelled at version 1 and order.cancelled is published", async () => {
    const { order, buyer, ticket } = await givenOrder(under.service);
    const res = await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie);
    expect(res.status).toBe(204);
    const shown = await api().get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie);
    expect(shown.body).toMatchObject({ status: "cancelled", version: 1, cancellation: { reason: "buyer", ticketPrice: null } });
    const event = await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    expect(event!.data).toEqual({ id: order.id, version: 1, ticket: { id: ticket.id } });
  });

  test("When an order is cancelled twice (even at once), then 204 each time and one order.cancelled", async () => {
    const { order, buyer } = await givenOrder(under.service);
    const cancel = () => api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie);
    const results = await Promise.all([cancel(), cancel()]);
    expect((await cancel()).status).toBe(204);
    expect(results.map((r) => r.status)).toEqual([204, 204]);
    await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect((await api().get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie)).body.version).toBe(1);
  });

  test("When the order is paid, then 400 Cannot cancel a completed order and it stays complete", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await paid(order.id, buyer.cookie);
    const res = await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Cannot cancel a completed order" }] });
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(0);
    expect((await api().get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie)).body).toMatchObject({ status: "complete", version: 1 });
  });

  test("When someone else cancels the order, then 404 as for an unknown order and it stays as it was", async () => {
    const { order, buyer } = await givenOrder(under.service);
    const res = await api().delete(`/api/orders/${order.id}`).set("Cookie", aUser().cookie);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Order not found" }] });
    expect((await api().get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie)).body).toMatchObject({ status: "created", version: 0 });
  });

  test("When not signed in, then 401 and it stays as it was", async () => {
    const { order, buyer } = await givenOrder(under.service);
    expect((await api().delete(`/api/orders/${order.id}`)).status).toBe(401);
    expect((await api().get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie)).body.status).toBe("created");
  });

  test.each([
    ["unknown", () => randomUUID()],
    ["malformed", () => "not-an-order"],
  ])("When the order id is %s, then 404", async (_, id) => {
    const res = await api().delete(`/api/orders/${id()}`).set("Cookie", aUser().cookie);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Order not found" }] });
  });
});
