import request from "supertest";
import { eventually, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { silentLogger, startTestService } from "@ticketforge/common/testing";
import { revokedSessionsBucket, SessionRevocations } from "@ticketforge/common";
import { orders } from "@ticketforge/orders/service";
import { serviceFor, signUp, startServices, stopServices, type Services } from "./support/in-process";

let nats: NatsServer;
let services: Services;

beforeAll(async () => {
  nats = await startNatsServer();
  services = await startServices(nats.url);
});
afterAll(async () => {
  await stopServices(services);
  await nats?.destroy();
});

/** One signed-in request to each service; each answers 401 when the session is not valid. */
const probes: Array<[string, string, object | undefined]> = [
  ["GET", "/api/orders", undefined],
  ["POST", "/api/tickets", { title: "Probe", price: 5 }],
  ["POST", "/api/payments", { orderId: "not-an-order", token: "tok_visa" }],
];

function send(method: string, path: string, cookie: string, body?: object) {
  const agent = request(serviceFor(services, path).app);
  const req = method === "GET" ? agent.get(path) : agent.post(path);
  return req.set("Cookie", cookie).send(body);
}

describe("POST /api/users/signout", () => {
  test("When a user signs out, then a copy of the old cookie is signed out on every service", async () => {
    const user = await signUp(services, "leaver");
    const me = await request(services.auth.app).get("/api/users/currentuser").set("Cookie", user.cookie);
    expect(me.body.currentUser).toMatchObject({ id: user.id });
    for (const [method, path, body] of probes) expect((await send(method, path, user.cookie, body)).status).not.toBe(401);

    const out = await request(services.auth.app).post("/api/users/signout").set("Cookie", user.cookie).set("Sec-Fetch-Site", "same-origin");
    expect(out.status).toBe(200);

    const replayed = await request(services.auth.app).get("/api/users/currentuser").set("Cookie", user.cookie);
    expect(replayed.body).toEqual({ currentUser: null });
    for (const [method, path, body] of probes) {
      await eventually(async () => (await send(method, path, user.cookie, body)).status === 401, 5_000);
    }
  });

  test("When a user signs out of one session, then their other sessions stay signed in", async () => {
    const user = await signUp(services, "two-devices");
    const again = await request(services.auth.app).post("/api/users/signin").send({ email: user.email, password: "correct horse battery" });
    const second = (again.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("session="))!.split(";")[0];
    await request(services.auth.app).post("/api/users/signout").set("Cookie", user.cookie).set("Sec-Fetch-Site", "same-origin").expect(200);
    await eventually(async () => (await send("GET", "/api/orders", user.cookie)).status === 401, 5_000);
    expect((await send("GET", "/api/orders", second)).status).toBe(200);
  });

  test("When a service starts after a sign-out, then it already refuses the signed-out session", async () => {
    const user = await signUp(services, "early-leaver");
    await request(services.auth.app).post("/api/users/signout").set("Cookie", user.cookie).set("Sec-Fetch-Site", "same-origin").expect(200);
    const fresh = await startTestService(orders, nats.url);
    try {
      expect((await request(fresh.app).get("/api/orders").set("Cookie", user.cookie)).status).toBe(401);
    } finally {
      await fresh.close();
    }
  });

  // last: it takes the revoked-sessions bucket away
  test("When the revoked-sessions bucket is lost, then sign-out answers 503 and changes nothing, no service says ready, and once it is back a sign-out reaches every service", async () => {
    const user = await signUp(services, "unlucky-leaver");
    const signOut = () =>
      request(services.auth.app).post("/api/users/signout").set("Cookie", user.cookie).set("Sec-Fetch-Site", "same-origin");
    const { jsm } = services.auth.ctx.bus;
    await jsm.streams.delete(`KV_${revokedSessionsBucket}`);

    const refused = await signOut();
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("5");
    expect(refused.headers["set-cookie"]).toBeUndefined();
    // the session is as it was, everywhere: the user can try again
    expect((await request(services.auth.app).get("/api/users/currentuser").set("Cookie", user.cookie)).body.currentUser).toMatchObject({
      id: user.id,
    });
    // the watches ended with their stream: no process that cannot hear of sign-outs says ready
    for (const service of Object.values(services)) {
      await eventually(async () => (await request(service.app).get("/readyz")).status === 503, 10_000);
    }

    // the administrator provisions the bucket again: every watch comes back by itself
    const restored = await SessionRevocations.open(services.auth.ctx.bus, silentLogger());
    await restored.close();
    for (const service of Object.values(services)) {
      await eventually(async () => (await request(service.app).get("/readyz")).status === 200, 15_000);
    }
    expect((await signOut()).status).toBe(200);
    for (const [method, path, body] of probes) {
      await eventually(async () => (await send(method, path, user.cookie, body)).status === 401, 5_000);
    }
  }, 60_000);
});
