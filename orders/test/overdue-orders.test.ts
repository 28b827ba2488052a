import { randomUUID } from "node:crypto";
import request from "supertest";
import { publish } from "@ticketforge/common/testing";
import { serviceUnderTest } from "@ticketforge/nats";
import { orders } from "../src/service";
import { givenOrder, settled } from "./helpers";

// a window of one second, and orders looks for overdue ones every 100 ms, one second past it
const under = serviceUnderTest(orders, {
  config: { EXPIRATION_WINDOW_SECONDS: 1, ORDERS_OVERDUE_AFTER_SECONDS: 1, ORDERS_OVERDUE_SWEEP_MS: 100 },
});

describe("the overdue-orders worker", () => {
  test("When no expiry ever comes for an unpaid order, then orders cancels it itself once it is well past its window, once", async () => {
    const { order, buyer, ticket } = await givenOrder(under.service);
    const cancelled = await under.recorder.waitFor("order.cancelled", (d) => d.id === order.id, 10_000);
    expect(cancelled!.data).toEqual({ id: order.id, version: 1, ticket: { id: ticket.id } });
    const shown = (await request(under.service.app).get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie)).body;
    expect(shown).toMatchObject({ status: "cancelled", version: 1, cancellation: { reason: "expired" } });
    // later passes find nothing more to do
    await new Promise((r) => setTimeout(r, 500));
    await settled(under.service, under.recorder);
    expect(under.recorder.of("order.cancelled").filter((e) => e.data.id === order.id)).toHaveLength(1);
  });

  test("When an order was paid in time, then the worker leaves it alone", async () => {
    const { order, buyer } = await givenOrder(under.service);
    await publish(under.service, "payment.completed", { id: randomUUID(), orderId: order.id, amount: 2050, providerRef: "ch_test" });
    await under.recorder.waitFor("order.completed", (d) => d.id === order.id);
    await new Promise((r) => setTimeout(r, 2_500));
    const shown = (await request(under.service.app).get(`/api/orders/${order.id}`).set("Cookie", buyer.cookie)).body;
    expect(shown).toMatchObject({ status: "complete" });
    expect(under.recorder.of("order.cancelled").filter((e) => e.data.id === order.id)).toHaveLength(0);
  });
});
