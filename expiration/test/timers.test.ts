import request from "supertest";
import { ConfigError, loadConfig, type Bus, type Database } from "@ticketforge/common";
import { openTestDatabase, startTestService, testSessionKeys, type TestService, publish } from "@ticketforge/common/testing";
import { EventRecorder, eventually, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { settings } from "../src/config";
import { expiration } from "../src/service";
import {
  connectPublisher,
  dueAt,
  expectNoneFired,
  expirations,
  newOrder,
  secondConnection,
  settled,
  until,
  type OrderCreated,
} from "./helpers";

let nats: NatsServer;
let database: Database;
let service: TestService;
let bus: Bus;
let recorder: EventRecorder;

// one database for the whole file, kept open while service instances come and go on it
beforeAll(async () => {
  nats = await startNatsServer();
  database = await openTestDatabase(expiration);
  service = await startTestService(expiration, nats.url, { database });
  bus = await connectPublisher(nats.url);
  recorder = await EventRecorder.start(nats.url);
});
afterAll(async () => {
  await recorder?.close();
  await bus?.drain();
  await service?.stop();
  await database?.close();
  await nats?.destroy();
});

async function createOrders(orders: OrderCreated[]) {
  // published together: one at a time, 150 of them took longer than their window on a busy machine
  await Promise.all(orders.map((order) => publish(bus, "order.created", order)));
  await settled(bus, "order.created");
}

/** Stored expiration.complete events (JetStream has already dropped re-publishes of one event). */
async function storedExpirations(): Promise<number> {
  return (await bus.jsm.streams.info("EXPIRATION")).state.messages;
}

describe("the timer worker", () => {
  test("When orders' windows run out, then each expires within a second of its expiresAt, never before", async () => {
    const orders = [700, 1_000, 1_300, 1_600, 1_900].map(newOrder);
    await createOrders(orders);
    const lateness = await Promise.all(
      orders.map(async (order) => {
        await recorder.waitFor("expiration.complete", (d) => d.orderId === order.id);
        return Date.now() - dueAt(order);
      }),
    );
    for (const ms of lateness) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(1_000);
    }
  });

  test("When the service restarts, then timers that fell due while it was down fire right after start, once", async () => {
    // more than one pass's batch, so the backlog is worked through without pauses
    // due after the stop: long enough for the timers to be stored on a busy machine (CI runs four test files at once on two cores)
    const orders = Array.from({ length: 150 }, () => newOrder(4_000));
    await createOrders(orders);
    await service.stop();
    const latestDue = Math.max(...orders.map(dueAt));
    expect(orders.filter((o) => expirations(recorder, o.id).length > 0)).toEqual([]); // none fired before the stop
    await until(latestDue + 200);
    expect(orders.filter((o) => expirations(recorder, o.id).length > 0)).toEqual([]); // nor while it was down

    service = await startTestService(expiration, nats.url, { database });
    // from ready: the start-up itself (a NATS connection, the consumers, the database) is not the timers' work
    const ready = Date.now();
    await eventually(() => orders.every((o) => expirations(recorder, o.id).length > 0));
    expect(Date.now() - ready).toBeLessThan(1_000);
    await expectNoneFired(bus, recorder, [], Date.now());
    for (const order of orders) expect(expirations(recorder, order.id)).toHaveLength(1);
  });

  test("When two replicas share one database, then each of 50 timers fires exactly once", async () => {
    const second = await secondConnection(database);
    const replica = await startTestService(expiration, nats.url, { database: second.database });
    try {
      const before = await storedExpirations();
      const orders = Array.from({ length: 50 }, (_, i) => newOrder(1_200 + i * 10));
      await createOrders(orders);
      await eventually(() => orders.every((o) => expirations(recorder, o.id).length > 0));
      await expectNoneFired(bus, recorder, [], Math.max(...orders.map(dueAt)));
      for (const order of orders) {
        const events = expirations(recorder, order.id);
        expect(events).toHaveLength(1);
        expect(new Set(events.map((e) => e.id)).size).toBe(1);
      }
      expect(await storedExpirations()).toBe(before + 50 + 1); // the 50 and the sentinel
    } finally {
      await replica.stop();
      await second.close();
    }
  });
});

describe("HTTP", () => {
  test("When probed, then /healthz and /readyz answer 200", async () => {
    expect((await request(service.app).get("/healthz")).status).toBe(200);
    const ready = await request(service.app).get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready" });
  });

  test("When any other route is asked for, then 404 with the error shape (expiration has no API)", async () => {
    for (const res of [
      await request(service.app).get("/api/expiration"),
      await request(service.app).post("/api/timers").send({ orderId: "x" }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: [{ message: expect.stringMatching(/not found/i) }] });
    }
  });
});

describe("configuration", () => {
  const env = { JWT_PUBLIC_KEY: testSessionKeys.publicKey, DATABASE_URL: "postgres://db/expiration" };

  test("When EXPIRATION_POLL_MS is not set, then timers are looked for every 250 ms at most", () => {
    expect(loadConfig("expiration", settings, env).EXPIRATION_POLL_MS).toBe(250);
    expect(loadConfig("expiration", settings, env).PORT).toBe(3005);
  });

  test.each(["soon", "0", "-5", "2.5"])("When EXPIRATION_POLL_MS is %j, then start-up stops naming it", (value) => {
    expect(() => loadConfig("expiration", settings, { ...env, EXPIRATION_POLL_MS: value })).toThrow(ConfigError);
    expect(() => loadConfig("expiration", settings, { ...env, EXPIRATION_POLL_MS: value })).toThrow(/EXPIRATION_POLL_MS/);
  });
});
