import { randomUUID } from "node:crypto";
import type { Bus } from "@ticketforge/common";
import { publish } from "@ticketforge/common/testing";
import { serviceUnderTest } from "@ticketforge/nats";
import { expiration } from "../src/service";
import { dueAt, ended, expectNoneFired, expirations, heldBack, newOrder, settled } from "./helpers";

const under = serviceUnderTest(expiration);
/** The connection events are published through, as the orders service would publish them. */
const bus = (): Bus => under.service.ctx.bus;

describe("order.created listener", () => {
  test("When an order is created, then expiration.complete names it once its window has run out", async () => {
    const order = newOrder(500);
    await publish(bus(), "order.created", order);
    await under.recorder.waitFor("expiration.complete", (d) => d.orderId === order.id);
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt(order));
    expect(expirations(under.recorder, order.id).map((e) => e.data)).toEqual([{ orderId: order.id }]);
  });

  test("When an order's window has already run out on arrival, then it expires at once", async () => {
    const order = newOrder(-60_000);
    const sent = Date.now();
    await publish(bus(), "order.created", order);
    await under.recorder.waitFor("expiration.complete", (d) => d.orderId === order.id);
    expect(Date.now() - sent).toBeLessThan(1_000);
  });

  test("When the same order.created arrives three times, then each copy is acked and the order expires once", async () => {
    const order = newOrder(800);
    const { id } = await publish(bus(), "order.created", order);
    await publish(bus(), "order.created", order, { id, msgId: randomUUID() }); // same event again (inbox)
    await publish(bus(), "order.created", order); // same version in a new event (version check)
    await settled(bus(), "order.created");
    await under.recorder.waitFor("expiration.complete", (d) => d.orderId === order.id);
    await publish(bus(), "order.created", order); // and once more after it expired
    await settled(bus(), "order.created");
    await expectNoneFired(bus(), under.recorder, [], dueAt(order));
    expect(expirations(under.recorder, order.id)).toHaveLength(1);
  });

  test("When a copy of order.created arrives after the order was cancelled, then it is acked and no timer comes back", async () => {
    const order = newOrder(1_500);
    await publish(bus(), "order.created", order);
    await settled(bus(), "order.created");
    await publish(bus(), "order.cancelled", ended(order));
    await settled(bus(), "order.cancelled");
    await publish(bus(), "order.created", order); // older than the order's version 1
    await settled(bus(), "order.created");
    await expectNoneFired(bus(), under.recorder, [order.id], dueAt(order));
  });

  // order.created always carries version 0, the first: it cannot come early. The early cases
  // are the ending events' (below), which wait for it.
});

// An order ends once, cancelled or paid; both events stop its timer in the same way.
describe.each([
  ["order.cancelled", "cancelled"],
  ["order.completed", "paid"],
] as const)("%s listener", (subject, how) => {
  test(`When an order is ${how} before its window runs out, then it never expires`, async () => {
    const order = newOrder(1_500);
    await publish(bus(), "order.created", order);
    await settled(bus(), "order.created");
    await publish(bus(), subject, ended(order));
    await settled(bus(), subject);
    await expectNoneFired(bus(), under.recorder, [order.id], dueAt(order));
  });

  test(`When the news that an order was ${how} arrives twice, then the copy is acked with no effect`, async () => {
    const order = newOrder(1_500);
    await publish(bus(), "order.created", order);
    await settled(bus(), "order.created");
    const { id } = await publish(bus(), subject, ended(order));
    await publish(bus(), subject, ended(order), { id, msgId: randomUUID() });
    await publish(bus(), subject, ended(order));
    await settled(bus(), subject);
    await expectNoneFired(bus(), under.recorder, [order.id], dueAt(order));
  });

  test(`When ${subject} carries a version already applied, then it is acked and the timer still runs`, async () => {
    const order = newOrder(1_000);
    await publish(bus(), "order.created", order);
    await settled(bus(), "order.created");
    await publish(bus(), subject, ended(order, 0)); // version 0 is the creation, already applied
    await settled(bus(), subject);
    await under.recorder.waitFor("expiration.complete", (d) => d.orderId === order.id);
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt(order));
  });

  test(`When an order is ${how} before its creation arrives, then the early news waits and the order never expires`, async () => {
    // long enough for the early news's redelivery (a second) on a busy machine
    const order = newOrder(6_000);
    await publish(bus(), subject, ended(order));
    await heldBack(bus(), subject); // delivered, not acked: the order is not known yet
    await publish(bus(), "order.created", order);
    await settled(bus(), "order.created");
    await settled(bus(), subject);
    expect(Date.now()).toBeLessThan(dueAt(order)); // the test's premise: it was applied before the window ran out
    await expectNoneFired(bus(), under.recorder, [order.id], dueAt(order));
  });
});
