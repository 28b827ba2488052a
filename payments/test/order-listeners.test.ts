import { aUser, anOrder, deliveriesSoFar, publish, waitAcked, waitRedelivered } from "@ticketforge/common/testing";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { paymentsService } from "../src/service";
import { eventFor, givenOrder, pay, paymentState, RecordingProvider, fromOneAddress } from "./helpers";

const provider = new RecordingProvider();
const payments = paymentsService({ provider });

const under = serviceUnderTest(payments, {
  config: { ...fromOneAddress, PAYMENT_REFUND_SWEEP_MS: 100, PAYMENT_REFUND_RETRY_MS: 200 },
});

const refundsOf = (orderId: string) => under.recorder.of("payment.refunded").filter((e) => e.data.orderId === orderId);
const outboxEmpty = () => eventually(async () => (await under.service.ctx.relay.pending()) === 0);

describe("order.created listener", () => {
  test("When an order is created, then its buyer, and only its buyer, can pay it at its price", async () => {
    const buyer = aUser();
    const order = anOrder({ buyerId: buyer.id, priceCents: 1999 });
    expect(await paymentState(under.service, buyer.cookie, order.id)).toBe("unknown");
    await waitAcked(under.service, "order.created", (await publish(under.service, "order.created", order.created())).seq);
    expect(await paymentState(under.service, buyer.cookie, order.id)).toBe("payable");
    expect((await pay(under.service, aUser().cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(404);
    expect((await pay(under.service, buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    expect((await provider.chargesOf(order.id)).map((c) => c.amountCents)).toEqual([1999]);
  });

  test("When the event is delivered twice, or version 0 comes again with other data, then the first is kept and the others are acked", async () => {
    const buyer = aUser();
    const order = anOrder({ buyerId: buyer.id, priceCents: 1000 });
    const first = await publish(under.service, "order.created", order.created());
    const again = await publish(under.service, "order.created", order.created(), { id: first.id, msgId: `${first.id}-replay` });
    const impostor = aUser();
    // the same order (and so the same ticket, as every event of one order names) with other data
    const other = await publish(
      under.service,
      "order.created",
      anOrder({ buyerId: impostor.id, priceCents: 1, id: order.id, ticketId: order.ticket.id }).created(),
    );
    await waitAcked(under.service, "order.created", Math.max(again.seq, other.seq));
    expect((await pay(under.service, impostor.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(404);
    expect((await pay(under.service, buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    expect((await provider.chargesOf(order.id)).map((c) => c.amountCents)).toEqual([1000]);
  });
});

describe("order.cancelled listener", () => {
  test("When an open order is cancelled (version 1), then it can no longer be paid", async () => {
    const order = await givenOrder(under.service);
    await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled(1))).seq);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("cancelled");
  });

  test("When it carries a version already applied, then it is acked and the order stays open", async () => {
    const order = await givenOrder(under.service);
    await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled(0))).seq);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("payable");
  });

  test("When it comes before the order is known, then it waits, and the order is cancelled once order.created arrives", async () => {
    const buyer = aUser();
    const order = anOrder({ buyerId: buyer.id });
    const since = await deliveriesSoFar(under.service, "order.cancelled");
    const early = await publish(under.service, "order.cancelled", order.cancelled());
    await waitRedelivered(under.service, "order.cancelled", early.seq, since);
    expect(await paymentState(under.service, buyer.cookie, order.id)).toBe("unknown");
    await publish(under.service, "order.created", order.created());
    await eventually(async () => (await paymentState(under.service, buyer.cookie, order.id)) === "cancelled");
    await waitAcked(under.service, "order.cancelled", early.seq);
  });

  test("When a paid order is cancelled and the event is delivered twice, then the charge is refunded exactly once and payment.refunded is published", async () => {
    const order = await givenOrder(under.service, aUser(), 4200);
    const paid = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    expect(paid.status).toBe(201);
    const [charge] = await provider.chargesOf(order.id);

    const cancelled = await publish(under.service, "order.cancelled", order.cancelled());
    const refunded = await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
    expect(refunded.data).toEqual({ id: paid.body.id, orderId: order.id, amount: 4200, providerRef: expect.stringMatching(/^re_/) });
    expect((await provider.chargesOf(order.id)).find((c) => c.id === charge.id)?.refundedBy).toBe(refunded.data.providerRef);

    const again = await publish(under.service, "order.cancelled", order.cancelled(), { id: cancelled.id, msgId: `${cancelled.id}-replay` });
    await waitAcked(under.service, "order.cancelled", again.seq);
    await under.service.ctx.refunder.sweep();
    await outboxEmpty();
    expect(provider.refundCalls.filter((r) => r.chargeId === charge.id)).toHaveLength(1);
    expect(refundsOf(order.id)).toHaveLength(1);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("cancelled");
  });

  test("When the provider fails to refund at first, then the refund is retried with the same key until it succeeds", async () => {
    const order = await givenOrder(under.service);
    const paid = await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" });
    const [charge] = await provider.chargesOf(order.id);
    provider.failingRefunds = 2;
    await publish(under.service, "order.cancelled", order.cancelled());
    await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
    const calls = provider.refundCalls.filter((r) => r.chargeId === charge.id);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.idempotencyKey))).toEqual(new Set([`refund-${paid.body.id}`]));
    await outboxEmpty();
    expect(refundsOf(order.id)).toHaveLength(1);
  });
});

describe("order.completed listener", () => {
  test("When an order is completed (version 1), then paying it again is refused", async () => {
    const order = await givenOrder(under.service);
    await waitAcked(under.service, "order.completed", (await publish(under.service, "order.completed", order.completed(1))).seq);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("paid");
  });

  test("When it is delivered twice, or carries a version already applied, then it is acked with no further effect", async () => {
    const order = await givenOrder(under.service);
    const stale = await publish(under.service, "order.completed", order.completed(0));
    await waitAcked(under.service, "order.completed", stale.seq);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("payable");
    const first = await publish(under.service, "order.completed", order.completed(1));
    const again = await publish(under.service, "order.completed", order.completed(1), { id: first.id, msgId: `${first.id}-replay` });
    await waitAcked(under.service, "order.completed", again.seq);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("paid");
    // a later cancellation (version 2) still applies: the duplicate did not move the version on
    await waitAcked(under.service, "order.cancelled", (await publish(under.service, "order.cancelled", order.cancelled(2))).seq);
    expect(await paymentState(under.service, order.buyer.cookie, order.id)).toBe("cancelled");
  });

  test("When it comes before the order is known, then it waits, and applies once order.created arrives", async () => {
    const buyer = aUser();
    const order = anOrder({ buyerId: buyer.id });
    const since = await deliveriesSoFar(under.service, "order.completed");
    const early = await publish(under.service, "order.completed", order.completed());
    await waitRedelivered(under.service, "order.completed", early.seq, since);
    expect(await paymentState(under.service, buyer.cookie, order.id)).toBe("unknown");
    await publish(under.service, "order.created", order.created());
    await eventually(async () => (await paymentState(under.service, buyer.cookie, order.id)) === "paid");
    await waitAcked(under.service, "order.completed", early.seq);
  });
});
