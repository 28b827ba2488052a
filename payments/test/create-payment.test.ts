import { aUser, anOrder, publish, waitAcked } from "@ticketforge/common/testing";
import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { paymentsService } from "../src/service";
import { eventFor, givenOrder, pay, paymentState, RecordingProvider, fromOneAddress } from "./helpers";

const provider = new RecordingProvider();

const under = serviceUnderTest(paymentsService({ provider }), {
  config: { ...fromOneAddress, PAYMENT_REFUND_SWEEP_MS: 100, PAYMENT_REFUND_RETRY_MS: 200 },
});

const eventsOf = (subject: string, orderId: string) => under.recorder.of(subject).filter((e) => e.data.orderId === orderId);
const outboxEmpty = () => eventually(async () => (await under.service.ctx.relay.pending()) === 0);

describe("POST /api/payments", () => {
  test("When the buyer pays with a good card, then 201, the order's own price is charged and payment.completed is published", async () => {
    const order = await givenOrder(under.service, aUser(), 2010); // a 20.10 ticket
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa", amount: 0.01, price: 0.01 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), orderId: order.id });
    const [charge] = await provider.chargesOf(order.id);
    expect(charge).toMatchObject({ amountCents: 2010, currency: "usd", token: "tok_visa", idempotencyKey: order.id });
    const event = await eventFor(under.recorder, "payment.completed", (d) => d.orderId === order.id);
    expect(event.data).toEqual({ id: res.body.id, orderId: order.id, amount: 2010, providerRef: charge.id });
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("paid");
  });

  test("When nobody is signed in, then 401 whatever the body, and nothing is charged", async () => {
    const order = await givenOrder(under.service);
    for (const body of [{ orderId: order.id, token: "tok_visa" }, {}]) {
      const res = await pay(under.service, undefined, body);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: [{ message: "Not authorized" }] });
    }
    expect(provider.chargeCallsOf(order.id)).toHaveLength(0);
  });

  test("When someone pays another buyer's order, then 404 as for an unknown order and nothing is charged", async () => {
    const order = await givenOrder(under.service);
    const res = await pay(under.service, aUser().cookie, { orderId: order.id, token: "tok_visa" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Order not found" }] });
    expect(provider.chargeCallsOf(order.id)).toHaveLength(0);
  });

  test.each(["9b2f6a3e-6c1d-4c8e-9a51-3f0d2c7b8e14", "not-an-id", "1' or '1'='1", "9B2F6A3E"])(
    "When the order %s is unknown or malformed, then 404",
    async (orderId) => {
      const res = await pay(under.service, aUser().cookie, { orderId, token: "tok_visa" });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: [{ message: "Order not found" }] });
    },
  );

  test.each([
    [{}, ["orderId", "token"]],
    [{ token: "tok_visa" }, ["orderId"]],
    [{ orderId: "   ", token: "tok_visa" }, ["orderId"]],
    [{ orderId: 42, token: "tok_visa" }, ["orderId"]],
    [{ orderId: "x" }, ["token"]],
    [{ orderId: "x", token: "" }, ["token"]],
    [{ orderId: "x", token: 12 }, ["token"]],
    [{ orderId: "x", token: { id: "tok_visa" } }, ["token"]],
    [{ orderId: "x", token: "t".repeat(256) }, ["token"]],
  ])("When the body is %j, then 400 naming %j", async (body, fields) => {
    const res = await pay(under.service, aUser().cookie, body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(fields);
    for (const e of res.body.errors) expect(e.message).toEqual(expect.any(String));
  });

  test("When the body is not an object or not JSON, then 400 and never a 500", async () => {
    const { cookie } = aUser();
    expect((await pay(under.service, cookie, [1, 2])).status).toBe(400);
    const res = await request(under.service.app)
      .post("/api/payments")
      .set("Cookie", cookie)
      .set("Content-Type", "application/json")
      .send("{");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Malformed JSON in request body" }] });
  });

  test("When the card is declined, then 400 with the provider's reason; another card then pays the order", async () => {
    const order = await givenOrder(under.service);
    const declined = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_chargeDeclined" });
    expect(declined.status).toBe(400);
    expect(declined.body).toEqual({ errors: [{ message: "Your card was declined." }] });
    expect(await provider.chargesOf(order.id)).toHaveLength(0);

    const paid = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(paid.status).toBe(201);
    // the provider replays a key's first outcome, so the second card needs a key of its own
    expect(provider.chargeCallsOf(order.id).map((c) => c.idempotencyKey)).toEqual([order.id, `${order.id}-1`]);
    expect(await provider.chargesOf(order.id)).toHaveLength(1);
  });

  test("When the token is not a card the provider knows, then 400 naming the token and nothing is charged", async () => {
    const order = await givenOrder(under.service);
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_unknown" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ field: "token", message: "Invalid payment token" }] });
    expect(await provider.chargesOf(order.id)).toHaveLength(0);
  });

  test("When the provider cannot be reached, then 503 and the buyer can pay once it is back", async () => {
    const order = await givenOrder(under.service);
    provider.failingCharges = 1;
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(res.status).toBe(503);
    expect(res.body.errors[0].message).toMatch(/try again/);
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
  });

  test("When the order is cancelled, then 400 and the card is not charged", async () => {
    const order = await givenOrder(under.service);
    await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled())).seq);
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Cannot pay for a cancelled order" }] });
    expect(provider.chargeCallsOf(order.id)).toHaveLength(0);
  });

  test("When the order is already complete, then 400 already paid and the card is not charged", async () => {
    const order = await givenOrder(under.service);
    await waitAcked(under.service, "order.completed", (await publish(under.service, "order.completed", order.completed())).seq);
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Order has already been paid" }] });
    expect(provider.chargeCallsOf(order.id)).toHaveLength(0);
  });

  test("When the buyer pays twice, then the second payment is refused and the card is charged once", async () => {
    const order = await givenOrder(under.service);
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    const again = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ errors: [{ message: "Order has already been paid" }] });
    expect(provider.chargeCallsOf(order.id)).toHaveLength(1);
    await outboxEmpty();
    await eventFor(under.recorder, "payment.completed", (d) => d.orderId === order.id);
    expect(eventsOf("payment.completed", order.id)).toHaveLength(1);
  });

  test("When a payment is retried with the same Idempotency-Key, then it gets the first answer and the card is charged once; the key on another order is a 422", async () => {
    const order = await givenOrder(under.service);
    const key = `pay-${order.id}`;
    const keyed = (body: object) =>
      request(under.service.app).post("/api/payments").set("Cookie", order.buyer.cookie).set("Idempotency-Key", key).send(body);
    const first = await keyed({ orderId: order.id, token: "tok_visa" });
    expect(first.status).toBe(201);
    const retry = await keyed({ orderId: order.id, token: "tok_visa" });
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 201, body: first.body });
    expect(provider.chargeCallsOf(order.id)).toHaveLength(1);
    const other = await givenOrder(under.service, order.buyer);
    expect((await keyed({ orderId: other.id, token: "tok_visa" })).status).toBe(422);
    expect(provider.chargeCallsOf(other.id)).toHaveLength(0);
  });

  test("When the provider cannot be reached on a keyed payment, then the 503 is not kept: the retry with the same key pays", async () => {
    const order = await givenOrder(under.service);
    provider.failingCharges = 1;
    const keyed = () =>
      request(under.service.app)
        .post("/api/payments")
        .set("Cookie", order.buyer.cookie)
        .set("Idempotency-Key", `retry-${order.id}`)
        .send({ orderId: order.id, token: "tok_visa" });
    const down = await keyed();
    expect(down.status).toBe(503);
    expect(down.headers["retry-after"]).toEqual(expect.any(String));
    expect((await keyed()).status).toBe(201);
  });

  test("When a keyed payment comes before payments knows the order, then the 404 is not kept: the retry with the same key pays once the order is known", async () => {
    const buyer = aUser();
    const order = anOrder({ buyerId: buyer.id, priceCents: 2050 });
    const keyed = () =>
      request(under.service.app)
        .post("/api/payments")
        .set("Cookie", buyer.cookie)
        .set("Idempotency-Key", `early-${order.id}`)
        .send({ orderId: order.id, token: "tok_visa" });
    expect((await keyed()).status).toBe(404);
    const { seq } = await publish(under.service, "order.created", order.created());
    await waitAcked(under.service, "order.created", seq);
    expect((await keyed()).status).toBe(201);
    expect(provider.chargeCallsOf(order.id)).toHaveLength(1);
  });

  test("When five payments of one order race, then one succeeds, the card is charged once and one payment.completed is published", async () => {
    const order = await givenOrder(under.service);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    // the others are refused: "already paid", or 429 when more attempts than the order's decline
    // limit are in flight at once (each holds a slot until its charge is known: card testing
    // in parallel cannot slip under the limit)
    for (const r of results.filter((r) => r.status !== 201)) {
      if (r.status === 429) expect(r.body.errors[0].message).toMatch(/^Too many declined cards for this order/);
      else
        expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: { errors: [{ message: "Order has already been paid" }] } });
    }
    expect(await provider.chargesOf(order.id)).toHaveLength(1);
    await outboxEmpty();
    const event = await eventFor(under.recorder, "payment.completed", (d) => d.orderId === order.id);
    expect(eventsOf("payment.completed", order.id)).toHaveLength(1);
    expect(event.data.id).toBe(results.find((r) => r.status === 201)!.body.id);
  });

  test("When the order is cancelled while the card is being charged, then the charge is refunded at once and the buyer is told", async () => {
    const order = await givenOrder(under.service);
    provider.onCharged = async () => {
      const { seq } = await publish(under.service, "order.cancelled", order.cancelled());
      await waitAcked(under.service, "order.cancelled", seq);
    };
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Order was cancelled; the payment was refunded" }] });

    const [charge] = await provider.chargesOf(order.id);
    expect(charge.refundedBy).toEqual(expect.stringMatching(/^re_/));
    const refunded = await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
    expect(refunded.data).toEqual({ id: expect.any(String), orderId: order.id, amount: 2050, providerRef: charge.refundedBy });
    expect(provider.refundCalls.filter((r) => r.chargeId === charge.id)).toEqual([
      { chargeId: charge.id, idempotencyKey: `refund-${refunded.data.id}` },
    ]);
    await outboxEmpty();
    expect(eventsOf("payment.completed", order.id)).toHaveLength(0);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("cancelled");
  });

  test("When the order is cancelled while the card is being charged and the refund fails at first, then the buyer is told it will be refunded, and it is", async () => {
    const order = await givenOrder(under.service);
    // every refund fails until the buyer has the answer: the route's at-once refund, and a sweep of
    // the refunder (every 100 ms here) that may find the due refund first
    provider.failingRefunds = Infinity;
    provider.onCharged = async () => {
      await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled())).seq);
    };
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    provider.failingRefunds = 0;
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Order was cancelled; the payment will be refunded" }] });
    const refunded = await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
    expect((await provider.chargesOf(order.id))[0].refundedBy).toBe(refunded.data.providerRef);
  });
});

describe("health", () => {
  test("When probed, then /healthz and /readyz answer 200", async () => {
    expect((await request(under.service.app).get("/healthz")).status).toBe(200);
    expect((await request(under.service.app).get("/readyz")).body).toEqual({ status: "ready" });
  });
});
