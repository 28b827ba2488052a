import http from "node:http";
import { startTestService, type TestService } from "@ticketforge/common/testing";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { tickets } from "@ticketforge/tickets/service";
import { loadRoutes, startGateway } from "../launcher/gateway";
import { formatStatus, serviceStatus } from "../status";

let nats: NatsServer;
let service: TestService;
let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
let gatewayUrl: string;

beforeAll(async () => {
  nats = await startNatsServer();
  service = await startTestService(tickets, nats.url);
  // every API route leads to a service that serves /metrics: none of it may show through
  const targets = Object.fromEntries(loadRoutes().map((r) => [r.service, r.service === "client" ? undefined : service.url]));
  gateway = await startGateway({ routes: loadRoutes(), targets });
  gatewayUrl = gateway.url;
});
afterAll(async () => {
  await gateway?.stop();
  await service?.close();
  await nats?.destroy();
});

describe("GET /metrics through the gateway", () => {
  test.each(["/metrics", "/api/tickets/../metrics", "/api/tickets/%2e%2e/metrics", "/api/metrics"])(
    "When %s is asked of the gateway, then no service's metrics come back",
    async (p) => {
      // sent as written: fetch() would resolve the dots before the gateway sees them
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: new URL(gatewayUrl).port, path: p }, (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve(text));
          })
          .on("error", reject);
      });
      expect(body.length).toBeGreaterThan(0);
      expect(body).not.toMatch(/tf_http_request_duration_seconds|process_cpu/);
    },
  );

  test("When the service is asked directly, then its metrics are there", async () => {
    const res = await fetch(`${service.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/tf_http_request_duration_seconds/);
  });
});

describe("npm run status", () => {
  test("When a service runs, then its row says ready with its lag, outbox and dead letters; when one does not answer, it says down", async () => {
    const up = await serviceStatus("tickets", service.url);
    expect(up).toMatchObject({ health: "ready", pending: 0, ackPending: 0, outboxRows: 0, deadLetters: 0 });
    const down = await serviceStatus("orders", "http://127.0.0.1:1", 500);
    expect(down).toEqual({ service: "orders", url: "http://127.0.0.1:1", health: "down" });
    const table = formatStatus([up, down]).split("\n");
    expect(table[0]).toMatch(/^service\s+health\s+lag\s+ack pending\s+outbox\s+oldest \(s\)\s+dead letters/);
    expect(table[2]).toMatch(/^tickets\s+ready\s+0\s+0\s+0\s+0\.0\s+0/);
    expect(table[3]).toMatch(/^orders\s+down(\s+-)+$/);
  });
});
