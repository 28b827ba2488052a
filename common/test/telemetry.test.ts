import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { startNatsServer, eventually, type NatsServer } from "@ticketforge/nats";
import { createLogger, listener, type ServiceDefinition, type UnitOfWork } from "../src";
import { logLines, publishAs, startTestService, type TestService } from "../src/testing";
import { metricValue, parseMetrics } from "../src/testing/telemetry";
import { publishRaw, ticketData } from "./helpers";

let nats: NatsServer;
const migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-telemetry-"));
const running: TestService[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await nats?.destroy();
  fs.rmSync(migrationsDir, { recursive: true, force: true });
});

let counter = 0;
/**
 * Poisoned messages published so far in this file: a new service's durable sees the whole stream,
 * so it dead-letters every one of them.
 */
let poisoned = 0;
/** A service that consumes ticket.created and fails on a ticket titled "poison". */
function aService(): ServiceDefinition {
  return {
    name: `svc${counter++}`,
    settings: {},
    migrationsDir,
    routes: (app) => {
      app.get("/api/things/:id", (req, res) => void res.json({ id: req.params.id }));
    },
    listeners: [
      listener({
        subject: "ticket.created",
        async handle(event) {
          if (event.data.title === "poison") throw new Error("cannot handle this ticket");
        },
      }),
    ],
  };
}

async function start(def: ServiceDefinition, options: Parameters<typeof startTestService>[2] = {}) {
  const service = await startTestService(def, nats.url, options);
  running.push(service);
  return service;
}

async function scrape(service: TestService) {
  const res = await request(service.app).get("/metrics").expect(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain/);
  return parseMetrics(res.text);
}

describe("GET /metrics", () => {
  test("When a service runs, then it serves every series an operator watches, labelled with the service", async () => {
    const def = aService();
    const service = await start(def);
    await request(service.app).get("/api/things/42").expect(200);
    const samples = await scrape(service);
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      "tf_http_request_duration_seconds_bucket",
      "tf_http_request_duration_seconds_count",
      "tf_consumer_pending_messages",
      "tf_consumer_ack_pending_messages",
      "tf_outbox_pending_rows",
      "tf_outbox_oldest_pending_age_seconds",
      "tf_dead_letters",
      "process_cpu_user_seconds_total",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(names).toContain(name);
    }
    expect(metricValue(samples, "tf_db_pool_connections", { state: "total" })).toBeGreaterThan(0);
    // the route template, not the path: one series for every id
    expect(
      metricValue(samples, "tf_http_request_duration_seconds_count", { service: def.name, route: "/api/things/:id", status: "200" }),
    ).toBe(1);
  });

  test("When an event keeps failing until it is dead-lettered, then the retries, the dead letter and the gauge of the service show it", async () => {
    const def = aService();
    const service = await start(def);
    await publishAs(service.ctx.bus, "ticket.created", { ...ticketData(1), title: "poison" });
    poisoned++;
    await eventually(async () => metricValue(await scrape(service), "tf_dead_letters") === poisoned, 15_000, 200);
    const samples = await scrape(service);
    const outcomes = (outcome: string) =>
      metricValue(samples, "tf_event_handling_duration_seconds_count", { subject: "ticket.created", outcome });
    expect(outcomes("retried")).toBe(2 * poisoned); // NATS_MAX_DELIVER is 3 in tests
    expect(outcomes("dead_lettered")).toBe(poisoned);
    expect(outcomes("handled")).toBe(0);
  });

  test("When a message is not even JSON, then it is counted as dead-lettered at once", async () => {
    const service = await start(aService());
    await publishRaw(service.ctx.bus, "ticket.created", "{not json");
    poisoned++;
    await eventually(async () => metricValue(await scrape(service), "tf_dead_letters") === poisoned, 10_000, 200);
    // each poisoned message is one dead-lettered delivery, whatever made it poison
    expect(metricValue(await scrape(service), "tf_event_handling_duration_seconds_count", { outcome: "dead_lettered" })).toBe(poisoned);
  });

  test("When the consumer is stopped while events arrive, then its pending messages show the lag, and drain when it consumes again", async () => {
    const def = aService();
    const first = await start(def);
    const durable = `${def.name}-ticket-created`;
    // the stream holds earlier tests' events: let this durable take them all first
    await eventually(
      async () => {
        const samples = await scrape(first);
        return (
          metricValue(samples, "tf_consumer_pending_messages", { durable }) === 0 &&
          metricValue(samples, "tf_consumer_ack_pending_messages", { durable }) === 0
        );
      },
      10_000,
      200,
    );
    await first.close();
    running.splice(running.indexOf(first), 1);
    const bus = (await start(aService())).ctx.bus; // any connection publishes
    for (let i = 0; i < 3; i++) await publishAs(bus, "ticket.created", ticketData(100 + i));
    // an instance that does not consume still reports its durable's lag
    const idle = await start(def, { listen: false });
    await eventually(async () => metricValue(await scrape(idle), "tf_consumer_pending_messages", { durable }) === 3, 10_000, 200);
    await idle.close();
    running.splice(running.indexOf(idle), 1);
    const consuming = await start(def);
    await eventually(
      async () => {
        const samples = await scrape(consuming);
        return (
          metricValue(samples, "tf_consumer_pending_messages", { durable }) === 0 &&
          metricValue(samples, "tf_event_handling_duration_seconds_count", { outcome: "handled" }) >= 3
        );
      },
      10_000,
      200,
    );
  });
});

describe("access log", () => {
  test("When a request is handled, then one line names its method, route, status, duration, request id and trace", async () => {
    const { lines, sink } = logLines();
    // no listeners: the stream's earlier (poisoned) events are not this test's concern
    const def = { ...aService(), listeners: [] };
    const service = await start(def, { log: createLogger(def.name, "info", sink) });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await request(service.app)
      .get("/api/things/7")
      .set("traceparent", `00-${traceId}-00f067aa0ba902b7-01`)
      .set("x-request-id", "req-123")
      .expect(200)
      .expect("x-request-id", "req-123");
    const access = await eventually(() => lines.filter((l) => l.msg === "request" && l.path === "/api/things/7"));
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      method: "GET",
      route: "/api/things/:id",
      status: 200,
      requestId: "req-123",
      trace_id: traceId,
      service: def.name,
    });
    expect(access[0].durationMs).toEqual(expect.any(Number));
    expect(access[0].span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(access[0].span_id).not.toBe("00f067aa0ba902b7"); // the service's own span, child of the caller's
  });
});

describe("trace context after the body is read", () => {
  test("When a route reads a JSON body and logs, then its line carries the request's trace id", async () => {
    const { lines, sink } = logLines();
    const def: ServiceDefinition = {
      ...aService(),
      listeners: [],
      routes: (app, ctx) => {
        app.post("/api/things", (req, res) => {
          ctx.log.info({ title: (req.body as { title: string }).title }, "thing made");
          res.status(201).end();
        });
      },
    };
    const service = await start(def, { log: createLogger(def.name, "info", sink) });
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    // a body large enough to arrive after the headers, from the socket's own callbacks: the
    // body parser must hand the route the request's trace
    await request(service.app)
      .post("/api/things")
      .set("traceparent", `00-${traceId}-b7ad6b7169203331-01`)
      .send({ title: "x".repeat(50_000) })
      .expect(201);
    const made = await eventually(() => lines.find((l) => l.msg === "thing made"));
    expect(made).toMatchObject({ trace_id: traceId, service: def.name });
  });
});

describe("trace ids without an exporter", () => {
  test("When a request writes an event, then the consumer's log lines carry the request's trace id (no exporter is set)", async () => {
    const { lines, sink } = logLines();
    const def: ServiceDefinition = {
      ...aService(),
      routes: (app, ctx) => {
        app.post("/api/things", async (_req, res) => {
          await ctx.work(async (uow: UnitOfWork) => uow.publish("ticket.created", { ...ticketData(7), title: "traced" }));
          res.status(201).end();
        });
      },
      listeners: [
        listener({
          subject: "ticket.created",
          async handle(event, uow) {
            if (event.data.title === "traced") uow.log.info("traced ticket seen");
          },
        }),
      ],
    };
    const service = await start(def, { log: createLogger(def.name, "info", sink) });
    const traceId = "5c1e2f0a9b8d7c6e5f4a3b2c1d0e9f8a";
    await request(service.app).post("/api/things").set("traceparent", `00-${traceId}-1111111111111111-00`).expect(201);
    const seen = await eventually(() => lines.find((l) => l.msg === "traced ticket seen"), 10_000);
    expect(seen).toMatchObject({ trace_id: traceId, subject: "ticket.created" });
    expect(seen.span_id).toMatch(/^[0-9a-f]{16}$/);
  });
});
