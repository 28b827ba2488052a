import { createHmac, randomUUID } from "node:crypto";
import request from "supertest";
import { sql } from "@ticketforge/common";
import { signedToken, signInCookie, testJwtKey } from "@ticketforge/common/testing";
import { eventually, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { serviceFor, startServices, stopServices, type Services } from "./support/in-process";

/**
 * Who may do what: every route of the API, called by the owner of what it names, another
 * signed-in user, an anonymous visitor, the owner with an expired session and the owner after
 * signing out, each answered with the status in one table (and the security headers).
 */
type Who = "owner" | "other" | "anonymous" | "expired" | "signed out" | "minted by tickets";
const everyone: Who[] = ["owner", "other", "anonymous", "expired", "signed out", "minted by tickets"];

interface Call {
  method: "get" | "post" | "put" | "delete";
  path: string;
  body?: object;
  headers?: Record<string, string>;
}

interface Row {
  route: string;
  /** Makes what the call names, owned by `ownerId`, and returns the call. */
  arrange: (ownerId: string) => Promise<Call>;
  expect: Record<Who, number>;
}

const signedInOnly = (owner: number, other: number) => ({
  owner,
  other,
  anonymous: 401,
  expired: 401,
  "signed out": 401,
  "minted by tickets": 401,
});
const open = (status: number) => ({
  owner: status,
  other: status,
  anonymous: status,
  expired: status,
  "signed out": status,
  "minted by tickets": status,
});

let nats: NatsServer;
let services: Services;

beforeAll(async () => {
  nats = await startNatsServer();
  services = await startServices(nats.url, {
    AUTH_RATE_LIMIT_PER_MINUTE: 10_000,
    ORDERS_RATE_LIMIT_PER_MINUTE: 10_000,
    PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE: 10_000,
    TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE: 10_000,
  });
}, 90_000);
afterAll(async () => {
  await stopServices(services);
  await nats?.destroy();
});

const cookieOf = (id: string) => signInCookie(testJwtKey, { id }).cookie;
const known = async (service: keyof Services, table: string, id: string) =>
  (await sql`select 1 from ${sql.table(table)} where id = ${id}`.execute(services[service].ctx.db)).rows.length > 0;

async function ticketOf(sellerId: string) {
  const res = await request(services.tickets.app)
    .post("/api/tickets")
    .set("Cookie", cookieOf(sellerId))
    .send({ title: "Matrix gig", price: 15 });
  if (res.status !== 201) throw new Error(`ticket: ${res.status}`);
  await eventually(() => known("orders", "tickets", res.body.id), 10_000);
  return res.body.id as string;
}

async function orderOf(buyerId: string) {
  const ticketId = await ticketOf(randomUUID());
  const res = await request(services.orders.app).post("/api/orders").set("Cookie", cookieOf(buyerId)).send({ ticketId });
  if (res.status !== 201) throw new Error(`order: ${res.status}`);
  await eventually(() => known("payments", "orders", res.body.id), 10_000);
  return res.body.id as string;
}

const sameSite = { "Sec-Fetch-Site": "same-origin" };

const table: Row[] = [
  {
    route: "POST /api/users/signup",
    arrange: async () => ({
      method: "post",
      path: "/api/users/signup",
      body: { email: `m-${randomUUID()}@example.com`, password: "correct horse battery" },
    }),
    expect: open(201),
  },
  {
    route: "POST /api/users/signin",
    arrange: async () => {
      const email = `m-${randomUUID()}@example.com`;
      await request(services.auth.app).post("/api/users/signup").send({ email, password: "correct horse battery" }).expect(201);
      return { method: "post", path: "/api/users/signin", body: { email, password: "correct horse battery" } };
    },
    expect: open(200),
  },
  {
    route: "POST /api/users/signout",
    arrange: async () => ({ method: "post", path: "/api/users/signout", headers: sameSite }),
    expect: open(200),
  },
  { route: "GET /api/users/currentuser", arrange: async () => ({ method: "get", path: "/api/users/currentuser" }), expect: open(200) },
  {
    route: "POST /api/tickets",
    arrange: async () => ({ method: "post", path: "/api/tickets", body: { title: "New gig", price: 10 } }),
    expect: signedInOnly(201, 201),
  },
  { route: "GET /api/tickets", arrange: async () => ({ method: "get", path: "/api/tickets" }), expect: open(200) },
  {
    route: "GET /api/tickets?mine=true",
    arrange: async () => ({ method: "get", path: "/api/tickets?mine=true" }),
    expect: signedInOnly(200, 200),
  },
  {
    route: "GET /api/tickets/:id",
    arrange: async (owner) => ({ method: "get", path: `/api/tickets/${await ticketOf(owner)}` }),
    expect: open(200),
  },
  {
    route: "PUT /api/tickets/:id",
    arrange: async (owner) => ({ method: "put", path: `/api/tickets/${await ticketOf(owner)}`, body: { title: "Edited", price: 11 } }),
    expect: signedInOnly(200, 401),
  },
  {
    route: "POST /api/orders",
    arrange: async () => ({ method: "post", path: "/api/orders", body: { ticketId: await ticketOf(randomUUID()) } }),
    expect: signedInOnly(201, 201),
  },
  { route: "GET /api/orders", arrange: async () => ({ method: "get", path: "/api/orders" }), expect: signedInOnly(200, 200) },
  {
    route: "GET /api/orders/:id",
    arrange: async (owner) => ({ method: "get", path: `/api/orders/${await orderOf(owner)}` }),
    expect: signedInOnly(200, 404),
  },
  {
    route: "DELETE /api/orders/:id",
    arrange: async (owner) => ({ method: "delete", path: `/api/orders/${await orderOf(owner)}` }),
    expect: signedInOnly(204, 404),
  },
  {
    route: "POST /api/payments",
    arrange: async (owner) => ({ method: "post", path: "/api/payments", body: { orderId: await orderOf(owner), token: "tok_visa" } }),
    expect: signedInOnly(201, 404),
  },
];

/** The cookie `who` sends for something owned by `ownerId` (none for the anonymous visitor). */
async function cookieFor(who: Who, ownerId: string): Promise<string | undefined> {
  if (who === "owner") return cookieOf(ownerId);
  if (who === "other") return cookieOf(randomUUID());
  if (who === "expired") return signInCookie(testJwtKey, { id: ownerId }, -60).cookie;
  if (who === "anonymous") return undefined;
  if (who === "minted by tickets") return mintedWithWhatTicketsHolds(ownerId);
  // signed out: a session of the owner's that auth has revoked, as every service knows by now
  const cookie = cookieOf(ownerId);
  await request(services.auth.app).post("/api/users/signout").set("Cookie", cookie).set(sameSite).expect(200);
  const jwt = JSON.parse(Buffer.from(cookie.slice("session=".length), "base64").toString()).jwt as string;
  const sid = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()).sid as string;
  await eventually(() => Object.values(services).every((s) => s.ctx.sessions.isRevoked(sid)), 5_000);
  return cookie;
}

/**
 * A compromised tickets pod minting a session for the owner with every key its configuration
 * holds, signed as HS256 (what the shared JWT_KEY allowed) and as EdDSA where the key can sign.
 * Only a cookie every service refuses for each of them counts as refused: the first one is sent,
 * the others are checked here against the owner's own read of their orders.
 */
async function mintedWithWhatTicketsHolds(ownerId: string): Promise<string> {
  const config = services.tickets.ctx.config as unknown as Record<string, unknown>;
  const held = Object.entries(config).filter(([key, value]) => /KEY|SECRET/.test(key) && typeof value === "string") as Array<
    [string, string]
  >;
  expect(held.map(([key]) => key)).toEqual(["JWT_PUBLIC_KEY"]);
  const claims = { id: ownerId, email: "owner@example.com", sid: randomUUID() };
  const cookies = held.flatMap(([, key]) => {
    const made = [hs256(claims, key)];
    try {
      made.push(signedToken(claims, key));
    } catch {
      // a public key cannot sign
    }
    return made.map((jwt) => `session=${Buffer.from(JSON.stringify({ jwt })).toString("base64")}`);
  });
  for (const cookie of cookies.slice(1)) {
    expect((await request(services.orders.app).get("/api/orders").set("Cookie", cookie)).status).toBe(401);
  }
  return cookies[0];
}

function hs256(claims: object, key: string): string {
  const now = Math.floor(Date.now() / 1000);
  const input = [
    { alg: "HS256", typ: "JWT" },
    { ...claims, iat: now, exp: now + 3600 },
  ]
    .map((p) => Buffer.from(JSON.stringify(p)).toString("base64url"))
    .join(".");
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

const cells = table.flatMap((row) => everyone.map((who) => [row.route, who, row.expect[who], row] as const));

describe("authorization matrix", () => {
  test.each(cells)("When %s is called by %s, then %i", async (_route, who, status, row) => {
    const ownerId = randomUUID();
    const call = await row.arrange(ownerId);
    const cookie = await cookieFor(who, ownerId);
    let req = request(serviceFor(services, call.path.split("?")[0]).app)[call.method](call.path);
    if (cookie) req = req.set("Cookie", cookie);
    if (call.headers) req = req.set(call.headers);
    const res = await (call.body ? req.send(call.body) : req);
    // the body rides along so that a wrong status shows what the service said
    expect({ status: res.status, body: res.body }).toMatchObject({ status });
    if (status >= 400) expect(res.body).toEqual({ errors: [expect.objectContaining({ message: expect.any(String) })] });
    // whoever asks and whatever the answer, it carries the security headers
    expect(res.headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    // whatever answers a session is that user's: no cache keeps it
    if (cookie) expect(res.headers["cache-control"]).toBe("no-store");
  });

  test("When the table is read, then every route of every service is in it", () => {
    const routes = new Set(table.map((r) => r.route.replace(/\?.*$/, "")));
    const mounted = new Set<string>();
    for (const s of Object.values(services)) {
      const stack = (s.app as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } })
        .router.stack;
      for (const layer of stack) {
        if (!layer.route || !layer.route.path.startsWith("/api/")) continue;
        for (const m of Object.keys(layer.route.methods)) mounted.add(`${m.toUpperCase()} ${layer.route.path}`);
      }
    }
    expect([...mounted].sort()).toEqual([...routes].sort());
  });
});
