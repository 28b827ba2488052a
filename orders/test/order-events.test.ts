import { randomUUID } from "node:crypto";
import request from "supertest";
import { EventRecorder, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { startTestService, type TestService } from "@ticketforge/common/testing";
import { orders } from "../src/service";
import { acked, aUser, givenOrder, publish, redelivered, settled } from "./helpers";

let nats: NatsServer;
let service: TestService;
let recorder: EventRecorder;
const api = () => request(service.app);

beforeAll(async () => {
  nats = await startNatsServer();
  service = await startTestService(orders, nats.url);
  recorder = await EventRecorder.start(nats.url);
});
afterAll(async () => {
  await recorder?.close();
  await service?.close();
  await nats?.destroy();
});

const eventsAbout = (subject: string, orderId: string) => recorder.of(subject).filter((e) => e.data.id === orderId);
const show = async (orderId: string, cookie: string) => (await api().get(`/api/orders/${orderId}`).set("Cookie", cookie)).body;

const expire = (orderId: string) => publish(service, "expiration.complete", { orderId });
const pay = (orderId: string, paymentId = randomUUID()) =>
  publish(service, "payment.completed", { id: paymentId, orderId, amount: 2050, providerRef: "ch_test" });
const refund = (orderId: string) =>
  publish(service, "payment.refunded", { id: randomUUID(), orderId, amount: 2050, providerRef: "re_test" });

// Events about an order carry no version: the order's own status decides whether one still
// applies, so "duplicate or late" here means "the order is no longer live".
describe("expiration.complete listener", () => {
  test("When an unpaid order's window runs out, then it is cancelled, order.cancelled leaves and the ticket is free again", async () => {
    const { order, buyer, ticket } = await givenOrder(service);
    await expire(order.id);
    const event = await recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    expect(event!.data).toEqual({ id: order.id, version: 1, ticket: { id: ticket.id } });
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "cancelled", version: 1 });
    await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id }).expect(201);
  });

  test("When the expiry is delivered again, then it is acked and no second order.cancelled leaves", async () => {
    const { order, buyer } = await givenOrder(service);
    await expire(order.id);
    const again = await expire(order.id);
    await acked(service, "expiration.complete", again.seq);
    await settled(service, recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "cancelled", version: 1 });
  });

  test("When the order was paid before its window ran out, then the expiry changes nothing", async () => {
    const { order, buyer } = await givenOrder(service);
    await pay(order.id);
    await recorder.waitFor("order.completed", (d) => d.id === order.id);
    const late = await expire(order.id);
    await acked(service, "expiration.complete", late.seq);
    await settled(service, recorder);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(0);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1 });
  });
});

describe("payment.completed listener", () => {
  test("When a live order is paid, then it is complete and order.completed leaves", async () => {
    const { order, buyer, ticket } = await givenOrder(service);
    await pay(order.id);
    const event = await recorder.waitFor("order.completed", (d) => d.id === order.id);
    expect(event!.data).toEqual({ id: order.id, version: 1, ticket: { id: ticket.id } });
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1, refund: null });
  });

  test("When the payment is reported again, then it is acked and no second order.completed leaves", async () => {
    const { order, buyer } = await givenOrder(service);
    const paymentId = randomUUID();
    await pay(order.id, paymentId);
    const again = await pay(order.id, paymentId);
    await acked(service, "payment.completed", again.seq);
    await settled(service, recorder);
    expect(eventsAbout("order.completed", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "complete", version: 1 });
  });

  test("When the payment lands on an order cancelled in the meantime, then the order stays cancelled and nothing leaves", async () => {
    const { order, buyer } = await givenOrder(service);
    await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie).expect(204);
    const late = await pay(order.id);
    await acked(service, "payment.completed", late.seq);
    await settled(service, recorder);
    expect(eventsAbout("order.completed", order.id)).toHaveLength(0);
    expect(eventsAbout("order.cancelled", order.id)).toHaveLength(1);
    expect(await show(order.id, buyer.cookie)).toMatchObject({ status: "cancelled", version: 1 });
  });
});

describe("payment.refunded listener", () => {
  test("When the late payment of a cancelled order is refunded, then the buyer sees the refund and nothing else changes", async () => {
    const { order, buyer } = await givenOrder(service);
    await expire(order.id);
    await recorder.waitFor("order.cancelled", (d) => d.id === order.id);
    const { occurredAt, seq } = await refund(order.id);
    await acked(service, "payment.refunded", seq);
    await settled(service, recorder);
    expect(await show(order.id, buyer.cookie)).toMatchObject({
      status: "cancelled",
      version: 1,
      refund: { amount: 20.5, refundedAt: occurredAt },
    });
    expect(recorder.events.filter((e) => e.subject.startsWith("order.") && e.data.id === order.id)).toHaveLength(2);
  });

  test("When the refund is reported again, then the order shows it once, unchanged", async () => {
    const { order, buyer } = await givenOrder(service);
    await api().delete(`/api/orders/${order.id}`).set("Cookie", buyer.cookie).expect(204);
    await refund(order.id);
    const again = await refund(order.id);
    await acked(service, "payment.refunded", again.seq);
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
  ] as const)("When %s names an unknown order, then it waits for it (redelivered) and nothing is published", async (subject, send) => {
    const orderEvents = () => recorder.events.filter((e) => e.subject.startsWith("order.")).length;
    await settled(service, recorder);
    const before = orderEvents();
    const { seq } = await send();
    await redelivered(service, subject, seq);
    await settled(service, recorder);
    expect(orderEvents()).toBe(before);
  });
});

describe("all order listeners", () => {
  test("When everything has settled, then no order event was ever published twice", async () => {
    await settled(service, recorder);
    const keys = recorder.events.filter((e) => e.subject.startsWith("order.")).map((e) => `${e.subject}:${e.data.id}`);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
