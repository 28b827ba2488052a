import { Writable } from "node:stream";
import request from "supertest";
import { createLogger } from "@ticketforge/common";
import { eventually, signInCookie, startTestService, testJwtKey, type TestService } from "@ticketforge/common/testing";
import { metricValue, parseMetrics, recordSpans, type ReadableSpan } from "@ticketforge/common/testing/telemetry";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { tickets } from "@ticketforge/tickets/service";
import { orders } from "@ticketforge/orders/service";
import { paymentsService } from "@ticketforge/payments/service";
import { expiration } from "@ticketforge/expiration/service";

// Four services in this process, one nats-server: they share the process's tracer provider, so
// one in-memory recorder sees every span, each named by the service that made it.
let nats: NatsServer;
let spans: InMemorySpanExporter;
const services: Record<string, TestService> = {};
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  spans = await recordSpans();
  nats = await startNatsServer();
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const log = (name: string) => ({ log: createLogger(name, "debug", sink) });
  services.tickets = await startTestService(tickets, nats.url, log("tickets"));
  services.orders = await startTestService(orders, nats.url, log("orders"));
  services.payments = await startTestService(paymentsService(), nats.url, log("payments"));
  services.expiration = await startTestService(expiration, nats.url, log("expiration"));
}, 120_000);
afterAll(async () => {
  for (const s of Object.values(services)) await s.close();
  await nats?.destroy();
});

const scrape = async (service: TestService) => parseMetrics((await request(service.app).get("/metrics").expect(200)).text);
const spansOf = (traceId: string) => spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const serviceOf = (span: ReadableSpan) => span.instrumentationScope.name;

describe("Following one purchase", () => {
  test("When a buyer orders and pays with a known traceparent, then orders, tickets, payments and expiration record spans of that one trace, and their logs carry its id", async () => {
    const seller = signInCookie(testJwtKey);
    const buyer = signInCookie(testJwtKey);
    const ticket = (
      await request(services.tickets.app)
        .post("/api/tickets")
        .set("Cookie", seller.cookie)
        .send({ title: "Concert", price: 20 })
        .expect(201)
    ).body;
    const ordersBefore = await scrape(services.orders);
    const ticketsBefore = await scrape(services.tickets);

    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const traceparent = `00-${traceId}-b7ad6b7169203331-01`;
    // orders learns about the ticket from ticket.created: until then the ticket is unknown (404)
    const order = await eventually(async () => {
      const res = await request(services.orders.app)
        .post("/api/orders")
        .set("Cookie", buyer.cookie)
        .set("traceparent", traceparent)
        .send({ ticketId: ticket.id });
      return res.status === 201 ? res.body : undefined;
    });
    // payments must know the order (order.created) before it can take the payment
    await eventually(() => spansOf(traceId).some((s) => serviceOf(s) === "payments" && s.name === "order.created process"));
    await request(services.payments.app)
      .post("/api/payments")
      .set("Cookie", buyer.cookie)
      .set("traceparent", traceparent)
      .send({ orderId: order.id, token: "tok_visa" })
      .expect(201);

    const expected: Array<[string, string]> = [
      ["orders", "POST /api/orders"],
      ["orders", "db.transaction"],
      ["orders", "order.created publish"],
      ["tickets", "order.created process"],
      ["tickets", "ticket.updated publish"],
      ["orders", "ticket.updated process"],
      ["payments", "order.created process"],
      ["expiration", "order.created process"],
      ["payments", "POST /api/payments"],
      ["payments", "payment.completed publish"],
      ["orders", "payment.completed process"],
      ["tickets", "order.completed process"],
      ["expiration", "order.completed process"],
    ];
    const trace = await eventually(
      () => {
        const found = spansOf(traceId);
        const missing = expected.filter(([svc, name]) => !found.some((s) => serviceOf(s) === svc && s.name === name));
        if (missing.length > 0) throw new Error(`spans not recorded yet: ${JSON.stringify(missing)}`);
        return found;
      },
      20_000,
      100,
    );

    // the event-handling span says what became of the delivery
    const reserve = trace.find((s) => serviceOf(s) === "tickets" && s.name === "order.created process")!;
    expect(reserve.attributes).toMatchObject({
      "messaging.destination.name": "order.created",
      "messaging.nats.delivery_count": 1,
      "ticketforge.event.outcome": "handled",
      "messaging.message.id": expect.any(String),
    });
    // the consumer continues the publish span that the relay sent in the message headers
    const publish = trace.find((s) => serviceOf(s) === "orders" && s.name === "order.created publish")!;
    expect(reserve.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);

    for (const service of ["orders", "tickets", "payments", "expiration"]) {
      expect(logLines.some((l) => l.service === service && l.trace_id === traceId)).toBe(true);
    }
    if (process.env.SHOW_TRACE) {
      const t0 = Math.min(...trace.map((s) => s.startTime[0] * 1e3 + s.startTime[1] / 1e6));
      const rows = trace
        .map((s) => ({ at: s.startTime[0] * 1e3 + s.startTime[1] / 1e6 - t0, s }))
        .sort((a, b) => a.at - b.at)
        .map(
          ({ at, s }) =>
            `${at.toFixed(1).padStart(8)} ms  ${serviceOf(s).padEnd(10)} ${s.name.padEnd(28)} ${(s.duration[0] * 1e3 + s.duration[1] / 1e6).toFixed(2)} ms`,
        );
      process.stdout.write(`trace ${traceId}\n${rows.join("\n")}\n`);
    }

    // and the metrics moved: one more order taken, one more order.created handled by tickets
    await eventually(async () => {
      const ordersNow = await scrape(services.orders);
      const ticketsNow = await scrape(services.tickets);
      const taken = (s: typeof ordersNow) =>
        metricValue(s, "tf_http_request_duration_seconds_count", { method: "POST", route: "/api/orders", status: "201" });
      const reserved = (s: typeof ordersNow) =>
        metricValue(s, "tf_event_handling_duration_seconds_count", { subject: "order.created", outcome: "handled" });
      expect(taken(ordersNow)).toBe(taken(ordersBefore) + 1);
      expect(reserved(ticketsNow)).toBe(reserved(ticketsBefore) + 1);
      return true;
    });
  });
});
