import request from "supertest";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { signInCookie, startTestService, testJwtKey, type TestService } from "@ticketforge/common/testing";
import { auth } from "../src/service";

let nats: NatsServer;
let service: TestService;

beforeAll(async () => {
  nats = await startNatsServer();
  // production: over HTTPS behind the gateway, which says so in X-Forwarded-Proto
  service = await startTestService(auth, nats.url, { config: { COOKIE_SECURE: true, TRUST_PROXY: "loopback" } });
});
afterAll(async () => {
  await service?.close();
  await nats?.destroy();
});

const overHttps = (req: request.Test) => req.set("X-Forwarded-Proto", "https");
const email = () => `c-${Math.random().toString(36).slice(2, 10)}@example.com`;

describe("the session cookie over HTTPS", () => {
  test("When a user signs up over HTTPS, then the cookie is __Host-session: Secure, Path=/, no Domain", async () => {
    const res = await overHttps(request(service.app).post("/api/users/signup")).send({ email: email(), password: "correct horse battery" });
    expect(res.status).toBe(201);
    const cookie = (res.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("__Host-session="))!;
    expect(cookie).toMatch(/; path=\/;/i);
    expect(cookie).toMatch(/; secure/i);
    expect(cookie).toMatch(/; httponly/i);
    expect(cookie).not.toMatch(/domain=/i);
  });

  test("When a sibling site plants a plain session cookie of the attacker's, then it is ignored: the user stays themselves", async () => {
    const signedUp = await overHttps(request(service.app).post("/api/users/signup")).send({
      email: email(),
      password: "correct horse battery",
    });
    const own = (signedUp.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("__Host-session="))!.split(";")[0];
    const planted = signInCookie(testJwtKey, { email: "attacker@example.com" }).cookie; // "session=…", valid
    const me = await request(service.app).get("/api/users/currentuser").set("Cookie", `${planted}; ${own}`);
    expect(me.body.currentUser).toMatchObject({ id: signedUp.body.id });
    expect((await request(service.app).get("/api/users/currentuser").set("Cookie", planted)).body).toEqual({ currentUser: null });
  });
});
