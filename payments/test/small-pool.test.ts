import { publish } from "@ticketforge/common/testing";
import { serviceUnderTest } from "@ticketforge/nats";
import { paymentsService } from "../src/service";
import { eventFor, fromOneAddress, givenOrder, pay } from "./helpers";

// The refunder calls the provider inside a unit of work, which holds one of the service's
// connections. The sandbox keeps its books in the payments database: were it to borrow a
// connection of the same pool, a full pool would wait for itself forever.
const under = serviceUnderTest(paymentsService(), {
  // the sandbox with its books in the database, as `npm start` runs it, on a pool of one connection
  poolSize: 1,
  config: { ...fromOneAddress, PAYMENT_REFUND_SWEEP_MS: 100 },
});

describe("the sandbox on a pool of one connection", () => {
  test("When a paid order is cancelled, then its charge is refunded and payment.refunded is published", async () => {
    const order = await givenOrder(under.service);
    expect((await pay(under.service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    await publish(under.service, "order.cancelled", order.cancelled());
    const refunded = await eventFor(under.recorder, "payment.refunded", (d) => d.orderId === order.id);
    expect(refunded.data).toEqual({
      id: expect.any(String),
      orderId: order.id,
      amount: 2050,
      providerRef: expect.stringMatching(/^re_sandbox_/),
    });
  });
});
