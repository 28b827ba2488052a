import { aUser, publish, waitAcked } from "@ticketforge/common/testing";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { listDeadLetters, replayDeadLetters, sql } from "@ticketforge/common";
import { paymentsService } from "../src/service";
import { eventFor, givenOrder, pay, RecordingProvider, fromOneAddress } from "./helpers";

const provider = new RecordingProvider();

const under = serviceUnderTest(paymentsService({ provider }), {
  config: {
    ...fromOneAddress,
    PAYMENT_REFUND_SWEEP_MS: 100,
    PAYMENT_REFUND_RETRY_MS: 50,
    PAYMENT_REFUND_ALERT_AFTER: 3,
    PAYMENT_RECONCILE_SWEEP_MS: 100,
    PAYMENT_RECONCILE_AFTER_MS: 300,
    PAYMENT_DECLINES_PER_ORDER: 3,
    PAYMENT_DECLINES_PER_BUYER: 5,
  },
});

const attemptsOf = async (orderId: string) =>
  (await sql<{ status: string }>`select status from payment_attempts where order_id = ${orderId}`.execute(under.service.ctx.db)).rows.map(
    (r) => r.status,
  );

/** The process dies right after the provider took the money, before anything is recorded. */
const dieAfterCharging = () => {
  provider.onCharged = async () => {
    throw new Error("payments was killed here");
  };
};

describe("a charge whose recording was lost (payments died between charge and commit)", () => {
  test("When the charge went through, then the reconciler finds it, records it and completes the order, with one charge", async () => {
    const order = await givenOrder(under.service, aUser(), 2500);
    dieAfterCharging();
    const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(res.status).toBe(503);
    const [charge] = await provider.chargesOf(order.id);
    expect(charge).toBeDefined();
    expect(await attemptsOf(order.id)).toEqual(["pending"]);

    const completed = await eventFor(under.recorder, "payment.completed", (d) => d.orderId === order.id);
    expect(completed.data).toMatchObject({ orderId: order.id, amount: 2500, providerRef: charge.id });
    expect(await attemptsOf(order.id)).toEqual(["charged"]);
    expect(await provider.chargesOf(order.id)).toHaveLength(1);
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).body).toEqual({
      errors: [{ message: "Order has already been paid" }],
    });
  });

  test("When the order was cancelled meanwhile, then the charge found is refunded and payment.refunded is published", async () => {
    const order = await givenOrder(under.service, aUser(), 1800);
    provider.onCharged = async () => {
      await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled())).seq);
      throw new Error("payments was killed here");
    };
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(503);
    const refunded = await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
    expect(refunded.data).toMatchObject({ orderId: order.id, amount: 1800 });
    expect((await provider.chargesOf(order.id))[0].refundedBy).toBe(refunded.data.providerRef);
    expect(under.recorder.of("payment.completed").filter((e) => e.data.orderId === order.id)).toEqual([]);
  });

  test("When the provider never charged (it was unreachable), then the attempt is closed with no money taken and the buyer can pay", async () => {
    const order = await givenOrder(under.service, aUser(), 900);
    provider.failingCharges = 1;
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(503);
    await eventually(async () => (await attemptsOf(order.id))[0] === "abandoned", 10_000);
    expect(await provider.chargesOf(order.id)).toHaveLength(0);
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    expect(await attemptsOf(order.id)).toEqual(["charged"]);
  });
});

describe("refunds that keep failing", () => {
  test("When the provider keeps refusing a refund, then an operator finds it in the dead letters, and it is still refunded once the provider recovers", async () => {
    const order = await givenOrder(under.service, aUser(), 4200);
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    provider.failingRefunds = 1_000;
    await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled())).seq);

    let letters: Awaited<ReturnType<typeof listDeadLetters>> = [];
    await eventually(async () => {
      letters = (await listDeadLetters(under.service.ctx.bus, "payments")).filter((l) => l.body.includes(order.id));
      return letters.length > 0;
    }, 20_000);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ service: "payments", subject: "refund", deliveries: 3 });
    expect(letters[0].error).toMatch(/refund failed 3 times: provider unavailable/);
    expect(JSON.parse(letters[0].body)).toMatchObject({ orderId: order.id, amount: 4200, failures: 3 });
    // a notice, not an event: replaying the service's dead letters leaves it for the operator
    expect(await replayDeadLetters(under.service.ctx.bus, "payments")).toBe(0);
    expect((await listDeadLetters(under.service.ctx.bus, "payments")).filter((l) => l.body.includes(order.id))).toHaveLength(1);

    provider.failingRefunds = 0;
    await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
  }, 60_000);
});

describe("declined cards", () => {
  test("When one order's card is declined three times, then the next try is 429 with Retry-After, even with a good card", async () => {
    const order = await givenOrder(under.service);
    for (let i = 0; i < 3; i++) {
      expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_chargeDeclined" })).status).toBe(400);
    }
    const throttled = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers["retry-after"])).toBeGreaterThan(0);
    expect(throttled.body.errors[0].message).toMatch(/^Too many declined cards for this order, try again in \d+ seconds$/);
    expect(await provider.chargesOf(order.id)).toHaveLength(0);
  });

  test("When one buyer's cards are declined across orders, then the buyer is throttled on every order", async () => {
    const buyer = aUser();
    const first = await givenOrder(under.service, buyer);
    const second = await givenOrder(under.service, buyer);
    const third = await givenOrder(under.service, buyer);
    for (const order of [first, first, second, second, third]) {
      expect((await pay(under.service, buyer.cookie, { orderId: order.id, token: "tok_chargeDeclined" })).status).toBe(400);
    }
    const fourth = await givenOrder(under.service, buyer);
    const throttled = await pay(under.service, buyer.cookie, { orderId: fourth.id, token: "tok_visa" });
    expect(throttled.status).toBe(429);
    expect(throttled.body.errors[0].message).toMatch(/^Too many declined cards for your account/);
    // someone else pays as usual
    const other = await givenOrder(under.service);
    expect((await pay(under.service, other.buyer.cookie, { orderId: other.id, token: "tok_visa" })).status).toBe(201);
  });
});

describe("card testing", () => {
  test("When a buyer tries declined cards on many orders at once, then no more reach the provider than the buyer's limit", async () => {
    const buyer = aUser();
    const orders = await Promise.all(Array.from({ length: 12 }, () => givenOrder(under.service, buyer)));
    const answers = await Promise.all(orders.map((o) => pay(under.service, buyer.cookie, { orderId: o.id, token: "tok_chargeDeclined" })));
    const tried = orders.flatMap((o) => provider.chargeCallsOf(o.id));
    expect(tried.length).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a.status === 400)).toHaveLength(tried.length);
    expect(answers.filter((a) => a.status === 429).length).toBe(12 - tried.length);
  });

  test("When tokens the provider does not know are tried on one order, then they count like declines: the next try is 429", async () => {
    const order = await givenOrder(under.service);
    for (const token of ["tok_guess1", "tok_guess2", "tok_guess3"]) {
      expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token })).status).toBe(400);
    }
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(429);
  });

  test("When a buyer pays many orders, then the payments that go through do not count against them", async () => {
    const buyer = aUser();
    for (let i = 0; i < 7; i++) {
      const order = await givenOrder(under.service, buyer);
      expect((await pay(under.service, buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    }
  });
});

describe("the provider's minimum charge", () => {
  test("When the order costs less than the provider can charge (Stripe: 0.50 USD), then 400 saying so and nothing is charged", async () => {
    provider.minimumCents = 50;
    try {
      const order = await givenOrder(under.service, aUser(), 30);
      const res = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ message: "The price is below the smallest amount sandbox can charge (0.50 USD)" }] });
      expect(provider.chargeCallsOf(order.id)).toHaveLength(0);
    } finally {
      provider.minimumCents = 1;
    }
  });
});
