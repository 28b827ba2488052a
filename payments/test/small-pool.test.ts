import { openDatabase, type Database } from "@ticketforge/common";
import { openTestDatabase, publish, startTestService, type TestService } from "@ticketforge/common/testing";
import { EventRecorder, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { paymentsService } from "../src/service";
import { eventFor, fromOneAddress, givenOrder, pay } from "./helpers";

// The refunder calls the provider inside a unit of work, which holds one of the service's
// connections. The sandbox keeps its books in the payments database: were it to borrow a
// connection of the same pool, a full pool would wait for itself forever.
let nats: NatsServer;
let schema: Database;
let single: Database;
let service: TestService;
let recorder: EventRecorder;
beforeAll(async () => {
  nats = await startNatsServer();
  const payments = paymentsService(); // the sandbox with its books in the database, as `npm start` runs it
  schema = await openTestDatabase(payments);
  single = await openDatabase({ url: schema.url, poolSize: 1 });
  service = await startTestService(payments, nats.url, {
    database: single,
    config: { ...fromOneAddress, PAYMENT_REFUND_SWEEP_MS: 100, DATABASE_POOL_SIZE: 1 },
  });
  recorder = await EventRecorder.start(nats.url);
});
afterAll(async () => {
  await recorder?.close();
  await service?.close();
  await single?.close();
  await schema?.close();
  await nats?.destroy();
});

describe("the sandbox on a pool of one connection", () => {
  test("When a paid order is cancelled, then its charge is refunded and payment.refunded is published", async () => {
    const order = await givenOrder(service);
    expect((await pay(service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    await publish(service, "order.cancelled", order.cancelled());
    const refunded = await eventFor(recorder, "payment.refunded", (d) => d.orderId === order.id);
    expect(refunded.data).toEqual({
      id: expect.any(String),
      orderId: order.id,
      amount: 2050,
      providerRef: expect.stringMatching(/^re_sandbox_/),
    });
  });
});
