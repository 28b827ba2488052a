import { aUser, publish } from "@ticketforge/common/testing";
import { randomUUID } from "node:crypto";
import request from "supertest";
import { serviceUnderTest } from "@ticketforge/nats";
import { orders } from "../src/service";
import { acked, givenOrder, givenTicket, placedOrder, redelivered, reservedFor, settled } from "./helpers";

const api = () => request(under.service.app);

const under = serviceUnderTest(orders);

const eventsAbout = (subject: string, orderId: string) => under.recorder.of(subject).filter((e) => e.data.id === orderId);
const show = async (orderId: string, cookie: string) => (await api().get(`/api/orders/${orderId}`).set("Cookie", cookie)).body;

const expire = (orderId: string) => publish(under.service, "expiration.complete", { orderId });
const pay = (orderId: string, paymentId = randomUUID()) =>
  publish(under.service, "payment.completed", { id: paymentId, orderId, amount: 2050, providerRef: "ch_test" });
const refund = (orderId: string) =>
  publish(under.service, "payment.refunded", { id: randomUUID(), orderId, amount: 2050, providerRef: "re_test" });

// Events about an order carry no version: the order's own status decides whether one still
// applies, so "duplicate or late" here means "the order is no longer live".
describe("expiration.complete listener", () => {
  test("When an unpaid order's window runs out, then it is cancelled, order.cancelled leaves and the ticket is free again", async () => {
    const { order, buyer, ticket } = await givenOrder(under.service);
    await expire(order.id);
    const event = await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    expect(event!.data).toEqual({ id: order.id, version: 1, ticket: { id: ticket.id } });
    expect(await show(order.id, buyer.cookie)).toMatchObject({
      status: "cancelled",
      version: 1,
      cancellation: { reason: "expired", ticketPrice: null },
    });
    await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id }).expect(201);
  });

  test("When the expiry is delivered again, then it is acked and no second order.cancelled leaves", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await expire(order.id);
    const again = await expire(order.id);
    await acked(under.service, "expiration.complete", again.seq);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "cancelled", version: 1 });
  });

  test("When the order was paid before its window ran out, then the expiry changes nothing", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await pay(order.id);
    await under.recorder.waitFor("order.completed", (d) => d.id === order.id);
    const late = await expire(order.id);
    await acked(under.service, "expiration.complete", late.seq);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(0);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1 });
  });
});

describe("payment.completed listener", () => {
  test("When a live order is paid, then it is complete and order.completed leaves", async () => {
    const { order, buyer, ticket } = await givenOrder(under.service);
    await pay(order.id);
    const event = await under.recorder.waitFor("order.completed", (d) => d.id === order.id);
    expect(event!.data).toEqual({ id: order.id, version: 1, userId: buyer.id, ticket: { id: ticket.id } });
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1, refund: null });
  });

  test("When the payment is reported again, then it is acked and no second order.completed leaves", async () => {
    const { order, buyer } = await givenOrder(under.service);
    const paymentId = randomUUID();
    await pay(order.id, paymentId);
    const again = await pay(order.id, paymentId);
    await acked(under.service, "payment.completed", again.seq);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.completed", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1 });
  });

  test("When the payment lands on an order cancelled in the meantime, then the order stays cancelled and nothing leaves", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie).expect(204);
    const late = await pay(order.id);
    await acked(under.service, "payment.completed", late.seq);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.completed", order.id)).toHaveLength(0);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "cancelled", version: 1 });
  });
});

describe("ticket.reservation_refused listener (issue 27, finding 11)", () => {
  /** Tickets refusing the order's reservation: the seller raised the price to 1000.00 after the order was priced. */
  const refuse = (orderId: string, ticketId: string, options: { id?: string; msgId?: string } = {}) =>
    publish(
      under.service,
      "ticket.reservation_refused",
      { orderId, ticketId, reason: "ticket changed", price: 100_000, version: 1 },
      options,
    );

  test("When tickets refuses the reservation because the seller changed the ticket, then the order is cancelled saying why and at what price, order.cancelled leaves, and the refusal again or replayed changes nothing", async () => {
    const ticket = await givenTicket(under.service, { price: 100 });
    const buyer = aUser();
    const order = await placedOrder(under.service, ticket, buyer);
    const first = await refuse(order.id, ticket.id);
    const event = await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    expect(event!.data).toEqual({ id: order.id, version: 1, ticket: { id: ticket.id } });
    expect(await show(order.id, buyer.cookie)).toMatchObject({
      status: "cancelled",
      version: 1,
      ticket: { id: ticket.id, price: 1 },
      refund: null,
      cancellation: { reason: "ticket changed", ticketPrice: 1000 },
    });

    const again = await refuse(order.id, ticket.id, { id: first.id, msgId: randomUUID() });
    const replayed = await refuse(order.id, ticket.id);
    await acked(under.service, "ticket.reservation_refused", Math.max(again.seq, replayed.seq));
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({
      status: "cancelled",
      version: 1,
      cancellation: { reason: "ticket changed" },
    });
  });

  test("When the buyer cancelled first, then the refusal changes nothing and the order keeps the buyer's reason", async () => {
    const ticket = await givenTicket(under.service);
    const buyer = aUser();
    const order = await placedOrder(under.service, ticket, buyer);
    await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie).expect(204);
    const { seq } = await refuse(order.id, ticket.id);
    await acked(under.service, "ticket.reservation_refused", seq);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect((await show(order.id, buyer.cookie)).cancellation).toEqual({ reason: "buyer", ticketPrice: null });
  });
});

describe("payment.completed listener, before tickets has reserved the ticket for the order", () => {
  test("When the payment comes before the reservation, then it waits, and the order completes once tickets has reserved the ticket for it", async () => {
    const ticket = await givenTicket(under.service);
    const buyer = aUser();
    const order = await placedOrder(under.service, ticket, buyer);
    const { seq } = await pay(order.id);
    await redelivered(under.service, "payment.completed", seq);
    expect(eventsAbout("order.completed", order.id)).toHaveLength(0);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "created" });

    await reservedFor(under.service, ticket, order.id);
    await under.recorder.waitFor("order.completed", (d) => d.id === order.id);
    await acked(under.service, "payment.completed", seq);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1 });
  });

  test("When the buyer paid the old price and tickets then refuses the reservation, then the order ends cancelled, never complete, and the payment is left to payments to refund", async () => {
    const ticket = await givenTicket(under.service, { price: 100 });
    const buyer = aUser();
    const order = await placedOrder(under.service, ticket, buyer);
    const { seq } = await publish(under.service, "payment.completed", {
      id: randomUUID(),
      orderId: order.id,
      amount: 100,
      providerRef: "ch_test",
    });
    await redelivered(under.service, "payment.completed", seq);

    await publish(under.service, "ticket.reservation_refused", {
      orderId: order.id,
      ticketId: ticket.id,
      reason: "ticket changed",
      price: 100_000,
      version: 1,
    });
    await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    // the waiting payment comes back to a cancelled order: ignored, as any payment that crossed a cancellation
    await acked(under.service, "payment.completed", seq);
    await settled(under.service, under.recorder);
    expect(eventsAbout("order.completed", order.id)).toHaveLength(0);
    expect(await show(order.id, buyer.cookie)).toMatchObject({
      status: "cancelled",
      version: 1,
      cancellation: { reason: "ticket changed" },
    });
  });
});

describe("payment.refunded listener", () => {
  test("When the late payment of a cancelled order is refunded, then the buyer sees the refund and nothing else changes", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await expire(order.id);
    await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    const { occurredAt, seq } = await refund(order.id);
    await acked(under.service, "payment.refunded", seq);
    await settled(under.service, under.recorder);
    expect(await show(order.id, buyer.cookie)).toMatchObject({
      status: "cancelled",
      version: 1,
      refund: { amount: 20.5, refundedAt: occurredAt },
    });
    expect(under.recorder.events.filter((e) => e.subject.startsWith("order.") && e.data.id === order.id)).toHaveLength(2);
  });

  test("When the refund is reported again, then the order shows it once, unchanged", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie).expect(204);
    await refund(order.id);
    const again = await refund(order.id);
    await acked(under.service, "payment.refunded", again.seq);
    expect((await show(order.id, buyer.cookie)).refund).toEqual({ amount: 20.5, refundedAt: expect.any(String) });
  });
});

// Last in this file: such events wait (nak) until the dead-letter bound, holding their
// consumer's ack floor back, so no test after them could wait for an ack on the same subject.
describe("events about an order this service does not know", () => {
  test.each([
    ["expiration.complete", () => expire(randomUUID())],
    ["payment.completed", () => pay(randomUUID())],
    ["payment.refunded", () => refund(randomUUID())],
    [
      "ticket.reservation_refused",
      () =>
        publish(under.service, "ticket.reservation_refused", {
          orderId: randomUUID(),
          ticketId: randomUUID(),
          reason: "ticket changed",
          price: 100,
          version: 1,
        }),
    ],
  ] as const)("When %s names an unknown order, then it waits for it (redelivered) and nothing is published", async (subject, send) => {
    const orderEvents = () => under.recorder.events.filter((e) => e.subject.startsWith("order.")).length;
    await settled(under.service, under.recorder);
    const before = orderEvents();
    const { seq } = await send();
    await redelivered(under.service, subject, seq);
    await settled(under.service, under.recorder);
    expect(orderEvents()).toBe(before);
  });
});

describe("all order listeners", () => {
  test("When everything has settled, then no order event was ever published twice", async () => {
    await settled(under.service, under.recorder);
    const keys = under.recorder.events.filter((e) => e.subject.startsWith("order.")).map((e) => `${e.subject}:${e.data.id}`);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
