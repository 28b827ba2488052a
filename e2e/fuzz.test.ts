import { randomUUID } from "node:crypto";
import fc from "fast-check";
import request from "supertest";
import { sql, streams } from "@ticketforge/common";
import { signInCookie, testJwtKey } from "@ticketforge/common/testing";
import { eventually, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { serviceFor, startServices, stopServices, type Services } from "./support/in-process";
import { testSize } from "./support/size";

/**
 * Hostile input on every route: random strings (any Unicode, NUL, control and bidi characters,
 * huge, empty), numbers (NaN as text, 1e308, -0, 1e-9), wrong types, missing and extra fields,
 * bodies that are not objects or not JSON, in the body, the query and the path. Whatever comes
 * in, the answer is never a 5xx; a 4xx has the error shape and leaves every database as it was.
 * FUZZ_RUNS sets the cases per route (8 in `npm test`, 25 in `npm run test:long`), FUZZ_SEED the
 * seed (printed on a failure).
 */
const runs = testSize("FUZZ_RUNS", 8, 25);
const seed = Number(process.env.FUZZ_SEED ?? 20261130);

let nats: NatsServer;
let services: Services;
const fuzzer = signInCookie(testJwtKey, { id: randomUUID() });
const stats = { cases: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  nats = await startNatsServer();
  services = await startServices(nats.url, {
    AUTH_RATE_LIMIT_PER_MINUTE: 100_000,
    AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT: 100_000,
    ORDERS_RATE_LIMIT_PER_MINUTE: 100_000,
    ORDERS_MAX_LIVE_PER_BUYER: 100_000,
    PAYMENT_DECLINES_PER_ORDER: 100_000,
    PAYMENT_DECLINES_PER_BUYER: 100_000,
    PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE: 100_000,
    TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE: 100_000,
  });
}, 90_000);
afterAll(async () => {
  console.log(`fuzzer: ${stats.cases} cases, statuses ${JSON.stringify(Object.fromEntries(stats.byStatus))}, seed ${seed}`);
  await stopServices(services);
  await nats?.destroy();
});

// ── what random input is made of ─────────────────────────────────────────────────────────────
const nasty = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u202Eevil",
  "\u2066x\u2069",
  "\r\nSet-Cookie: x=1",
  "NaN",
  "Infinity",
  "-0",
  "1e308",
  "1e-9",
  "0x10",
  "' or 1=1 --",
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "x".repeat(5_000),
  "\uD800",
  "🎫".repeat(300),
);
const text = fc.oneof(nasty, fc.string({ unit: "binary", maxLength: 300 }), fc.string({ maxLength: 40 }));
const number = fc.oneof(fc.constantFrom(1e308, -0, 1e-9, -1, 0, 0.001, 2 ** 53 + 2, 1_000_000.01, 20.5), fc.double());
const value = fc.oneof(
  text,
  number,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(text, number), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const uuid = fc.uuid();

/** A body: an object mixing good values, hostile ones, missing and extra fields; or no object at all. */
function body(fields: Record<string, fc.Arbitrary<unknown>>) {
  const shaped = fc.record(Object.fromEntries(Object.entries(fields).map(([k, good]) => [k, fc.oneof(good, value)])), { requiredKeys: [] });
  const withExtra = fc
    .tuple(shaped, fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 }))
    .map(([b, extra]) => ({ ...extra, ...b }));
  return fc.oneof(
    { weight: 6, arbitrary: withExtra },
    { weight: 1, arbitrary: fc.oneof(fc.array(value, { maxLength: 3 }), text, number, fc.constant(null)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((raw) => ({ raw })) },
  );
}

/** A path segment: a real id, a random uuid, anything at all, or malformed percent-encoding sent as is. */
const segment = fc.oneof(
  fc.constant("REAL"),
  uuid,
  text.filter((s) => s.length > 0),
  fc.constantFrom("RAW:%", "RAW:%zz", "RAW:%E0%A4%A", "RAW:%00", "RAW:%C0%AF", "RAW:..%2F..%2F"),
);

/** Query parameters, each hostile, sometimes repeated (an array). */
function query(names: string[]) {
  return fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 6 })), fc.oneof(text, fc.array(text, { maxLength: 2 })), {
    maxKeys: 4,
  });
}

// ── the state a refused request must leave alone ─────────────────────────────────────────────
// A declined card is a 400 that rightly moves its order to the next charge attempt (a fresh
// idempotency key for the next card); rate-limit counters and the attempts' own log are
// bookkeeping of refusals, so they are not compared either.
const tablesOf: Record<keyof Services, Array<[table: string, columns: string]>> = {
  auth: [
    ["users", "t"],
    ["outbox", "t"],
  ],
  tickets: [
    ["tickets", "t"],
    ["outbox", "t"],
  ],
  orders: [
    ["tickets", "t"],
    ["orders", "t"],
    ["outbox", "t"],
  ],
  payments: [
    ["orders", "(t.id, t.user_id, t.price_cents, t.status, t.version)"],
    ["payments", "t"],
    ["outbox", "t"],
  ],
  expiration: [["outbox", "t"]],
};

async function snapshot(): Promise<string> {
  const parts: string[] = [];
  for (const [name, tables] of Object.entries(tablesOf) as Array<[keyof Services, Array<[string, string]>]>) {
    for (const [table, columns] of tables) {
      const row = sql.raw(`${columns}::text`);
      const r = await sql<{ digest: string }>`select md5(coalesce(string_agg(${row}, '|' order by ${row}), '')) as digest
        from ${sql.table(table)} t`.execute(services[name].ctx.db);
      parts.push(`${name}.${table}=${r.rows[0].digest}`);
    }
  }
  return parts.join(" ");
}

/**
 * Waits until no event is on its way: every outbox published, every consumer acked everything,
 * twice in a row (a handler may commit an outbox row between the two looks of one check).
 */
async function settled() {
  const { jsm } = services.auth.ctx.bus;
  const quiet = async () => {
    for (const { name } of streams) {
      for await (const c of jsm.consumers.list(name)) if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
    }
    for (const s of Object.values(services)) if ((await s.ctx.relay.pending()) > 0) return false;
    return true;
  };
  let inARow = 0;
  await eventually(async () => {
    inARow = (await quiet()) ? inARow + 1 : 0;
    return inARow >= 2;
    // on a busy machine the order set up for the route can take a while to travel every service
  }, 60_000);
}

// ── real things to aim at, so that random input reaches past the first checks ────────────────
async function aTicket(): Promise<string> {
  const res = await request(services.tickets.app).post("/api/tickets").set("Cookie", fuzzer.cookie).send({ title: "Fuzzed", price: 10 });
  return res.body.id;
}
async function anOrder(): Promise<string> {
  const seller = signInCookie(testJwtKey, { id: randomUUID() });
  const ticket = await request(services.tickets.app)
    .post("/api/tickets")
    .set("Cookie", seller.cookie)
    .send({ title: "For sale", price: 10 });
  let id = "";
  await eventually(async () => {
    const res = await request(services.orders.app).post("/api/orders").set("Cookie", fuzzer.cookie).send({ ticketId: ticket.body.id });
    id = res.body.id;
    return res.status === 201;
  }, 10_000);
  await eventually(
    async () => (await sql`select 1 from orders where id = ${id}`.execute(services.payments.ctx.db)).rows.length > 0,
    10_000,
  );
  return id;
}

interface Input {
  path: string;
  body?: unknown;
}

interface Route {
  name: string;
  method: "get" | "post" | "put" | "delete";
  /** Sent with a session of its own each time (sign-out would end the fuzzer's), from the site's own page. */
  ownSession?: boolean;
  input: fc.Arbitrary<(real: Record<string, string>) => Input>;
}

/** Percent-encodes a path segment; lone surrogates (which cannot be encoded) become U+FFFD. */
const enc = (s: string) =>
  s.startsWith("RAW:")
    ? s.slice(4)
    : encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));
const routes: Route[] = [
  {
    name: "POST /api/users/signup",
    method: "post",
    input: body({ email: fc.emailAddress(), password: text }).map((b) => () => ({ path: "/api/users/signup", body: b })),
  },
  {
    name: "POST /api/users/signin",
    method: "post",
    input: body({ email: fc.emailAddress(), password: text }).map((b) => () => ({ path: "/api/users/signin", body: b })),
  },
  {
    name: "POST /api/users/signout",
    method: "post",
    ownSession: true,
    input: body({ x: value }).map((b) => () => ({ path: "/api/users/signout", body: b })),
  },
  {
    name: "GET /api/users/currentuser",
    method: "get",
    input: query(["x"]).map((q) => () => ({ path: `/api/users/currentuser?${new URLSearchParams(flat(q))}` })),
  },
  {
    name: "POST /api/tickets",
    method: "post",
    input: body({ title: text, price: number }).map((b) => () => ({ path: "/api/tickets", body: b })),
  },
  {
    name: "GET /api/tickets",
    method: "get",
    input: query(["limit", "cursor", "q", "mine"]).map((q) => () => ({ path: `/api/tickets?${new URLSearchParams(flat(q))}` })),
  },
  {
    name: "GET /api/tickets/:id",
    method: "get",
    input: segment.map((id) => (real) => ({ path: `/api/tickets/${enc(id === "REAL" ? real.ticket : id)}` })),
  },
  {
    name: "PUT /api/tickets/:id",
    method: "put",
    input: fc
      .tuple(segment, body({ title: text, price: number }))
      .map(([id, b]) => (real) => ({ path: `/api/tickets/${enc(id === "REAL" ? real.ticket : id)}`, body: b })),
  },
  {
    name: "POST /api/orders",
    method: "post",
    input: body({ ticketId: fc.oneof(uuid, text) }).map((b) => () => ({ path: "/api/orders", body: b })),
  },
  {
    name: "GET /api/orders/:id",
    method: "get",
    input: segment.map((id) => (real) => ({ path: `/api/orders/${enc(id === "REAL" ? real.order : id)}` })),
  },
  {
    name: "DELETE /api/orders/:id",
    method: "delete",
    input: segment.map((id) => (real) => ({ path: `/api/orders/${enc(id === "REAL" ? real.order : id)}` })),
  },
  {
    name: "POST /api/payments",
    method: "post",
    input: fc
      .tuple(fc.boolean(), body({ token: fc.oneof(text, fc.constantFrom("tok_chargeDeclined", "tok_nope")) }))
      .map(([real, b]) => (r) => ({
        path: "/api/payments",
        body: real && typeof b === "object" && b && !Array.isArray(b) && !("raw" in b) ? { ...b, orderId: r.order } : b,
      })),
  },
];

function flat(q: Record<string, string | string[]>): Array<[string, string]> {
  return Object.entries(q).flatMap(([k, v]) =>
    Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]],
  );
}

async function send(route: Route, input: Input) {
  const app = serviceFor(services, input.path.split("?")[0]).app;
  const cookie = route.ownSession ? signInCookie(testJwtKey, { id: fuzzer.id }).cookie : fuzzer.cookie;
  let req = request(app)[route.method](input.path).set("Cookie", cookie);
  if (route.ownSession) req = req.set("Sec-Fetch-Site", "same-origin");
  const b = input.body as { raw?: string } | undefined;
  if (b && typeof b === "object" && !Array.isArray(b) && typeof b.raw === "string" && Object.keys(b).length === 1) {
    return req.set("Content-Type", "application/json").send(b.raw);
  }
  if (input.body !== undefined) req = req.set("Content-Type", "application/json");
  return input.body === undefined ? req : req.send(JSON.stringify(input.body));
}

describe("fuzzing every route", () => {
  test.each(routes.map((r) => [r.name, r] as const))(
    "When %s gets hostile input, then it answers 4xx with the error shape or succeeds, never 5xx, and a 4xx changes nothing",
    async (_name, route) => {
      const real = { ticket: await aTicket(), order: await anOrder() };
      await fc.assert(
        fc.asyncProperty(route.input, async (make) => {
          const input = make(real);
          await settled();
          const before = await snapshot();
          const res = await send(route, input);
          stats.cases++;
          stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
          const seen = `${route.name} ${JSON.stringify(input).slice(0, 500)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
          expect([seen, res.status < 500]).toEqual([seen, true]);
          if (res.status >= 400) {
            expect(res.body).toEqual({ errors: expect.arrayContaining([expect.objectContaining({ message: expect.any(String) })]) });
            for (const item of res.body.errors) expect(Object.keys(item).every((k) => k === "message" || k === "field")).toBe(true);
            await settled();
            expect([seen, await snapshot()]).toEqual([seen, before]);
          }
        }),
        { numRuns: runs, seed, endOnFailure: true },
      );
    },
    600_000,
  );
});
