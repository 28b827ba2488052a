import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { openTestDatabase, startTestService, aUser } from "@ticketforge/common/testing";
import { paymentsService } from "../src/service";
import { pay, givenOrder } from "./helpers";

let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.destroy();
});

describe("starting payments in production", () => {
  test("When NODE_ENV=production and neither STRIPE_KEY nor PAYMENTS_PROVIDER is set, then it refuses to start and says what to set", async () => {
    const database = await openTestDatabase();
    try {
      await expect(startTestService(paymentsService(), nats.url, { database, config: { NODE_ENV: "production" } })).rejects.toThrow(
        /no payment provider in production: set STRIPE_KEY .* or PAYMENTS_PROVIDER=sandbox/,
      );
    } finally {
      await database.close();
    }
  });

  test("When PAYMENTS_PROVIDER=stripe is set without a STRIPE_KEY, then it refuses to start", async () => {
    const database = await openTestDatabase();
    try {
      await expect(startTestService(paymentsService(), nats.url, { database, config: { PAYMENTS_PROVIDER: "stripe" } })).rejects.toThrow(
        /PAYMENTS_PROVIDER=stripe needs STRIPE_KEY/,
      );
    } finally {
      await database.close();
    }
  });

  test("When the operator opts in with PAYMENTS_PROVIDER=sandbox, then it starts and takes sandbox payments", async () => {
    const service = await startTestService(paymentsService(), nats.url, {
      config: { NODE_ENV: "production", PAYMENTS_PROVIDER: "sandbox" },
    });
    try {
      const order = await givenOrder(service, aUser());
      expect((await pay(service, order.buyer.cookie, { orderId: order.id, token: "tok_visa" })).status).toBe(201);
    } finally {
      await service.close();
    }
  });
});
