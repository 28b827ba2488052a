import request from "supertest";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { startTestService, type TestService } from "@ticketforge/common/testing";
import { auth } from "../src/service";

let nats: NatsServer;
let service: TestService;

beforeAll(async () => {
  nats = await startNatsServer();
  // behind the gateway on loopback: X-Forwarded-For names the real client
  service = await startTestService(auth, nats.url, { config: { AUTH_RATE_LIMIT_PER_MINUTE: 3, TRUST_PROXY: "loopback" } });
});
afterAll(async () => {
  await service?.close();
  await nats?.destroy();
});

describe("rate limiting of sign-in and sign-up", () => {
  test("When one client address goes over the limit, then 429 with Retry-After, and another address is not limited", async () => {
    const attempt = (ip: string) =>
      request(service.app).post("/api/users/signin").set("X-Forwarded-For", ip).send({ email: "a@b.co", password: "password123" });
    for (let i = 0; i < 3; i++) expect((await attempt("203.0.113.7")).status).toBe(400);
    const limited = await attempt("203.0.113.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.body.errors[0].message).toMatch(/too many/i);
    expect((await attempt("198.51.100.9")).status).toBe(400);
  });
});
