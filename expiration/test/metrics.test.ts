import request from "supertest";
import type { Bus } from "@ticketforge/common";
import { metricValue, parseMetrics } from "@ticketforge/common/testing/telemetry";
import { serviceUnderTest } from "@ticketforge/nats";
import { expiration } from "../src/service";
import { publish } from "@ticketforge/common/testing";
import { dueAt, newOrder } from "./helpers";

const under = serviceUnderTest(expiration);
/** The connection events are published through, as the orders service would publish them. */
const bus = (): Bus => under.service.ctx.bus;

const scrape = async () => parseMetrics((await request(under.service.app).get("/metrics").expect(200)).text);

describe("GET /metrics", () => {
  test("When reservation windows run out, then the timers fire and the lateness of the last ones shows, with none left due", async () => {
    const before = await scrape();
    expect(metricValue(before, "tf_expiration_timers_due")).toBe(0);
    expect(metricValue(before, "tf_expiration_last_fire_lateness_seconds")).toBe(0);
    const orders = [300, 400].map(newOrder);
    for (const order of orders) await publish(bus(), "order.created", order);
    for (const order of orders) await under.recorder.waitFor("expiration.complete", (d) => d.orderId === order.id);
    const firedAt = Date.now();
    const after = await scrape();
    expect(metricValue(after, "tf_expiration_timers_due")).toBe(0);
    const lateness = metricValue(after, "tf_expiration_last_fire_lateness_seconds");
    expect(lateness).toBeGreaterThan(0);
    // no later than the event was seen (the clock of the database and of the test agree here)
    expect(lateness).toBeLessThanOrEqual((firedAt - dueAt(orders[0])) / 1000 + 0.05);
  });
});
