import request from "supertest";
import { ConfigError, loadConfig, sql } from "@ticketforge/common";
import { aUser, anOrder, publish, startTestService, testSessionKeys, type TestService } from "@ticketforge/common/testing";
import { metricValue, parseMetrics } from "@ticketforge/common/testing/telemetry";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { tickets } from "../src/service";
import { settings } from "../src/config";
import { ListingCache } from "../src/listing-cache";
import { createTicket, getTicket } from "./helpers";

// An hour: in these tests a page can only leave the cache because a change emptied it.
const under = serviceUnderTest(tickets, { config: { TICKETS_LISTING_CACHE_MS: 3_600_000 } });
const seller = aUser();

const firstPage = async (service: TestService = under.service, headers: Record<string, string> = {}) => {
  const res = await request(service.app).get("/api/tickets").set(headers).query({ limit: "100" });
  expect(res.status).toBe(200);
  return res.body.map((t: { id: string }) => t.id) as string[];
};
const lookups = async (service: TestService = under.service) => {
  const samples = parseMetrics((await request(service.app).get("/metrics").expect(200)).text);
  return (result: string) => metricValue(samples, "tf_tickets_listing_cache_total", { result });
};
/** The cache is used once the service listens for changes (a moment after start-up). */
const listening = (service: TestService = under.service) =>
  eventually(async () => {
    await firstPage(service);
    const before = (await lookups(service))("hit");
    await firstPage(service);
    return (await lookups(service))("hit") > before;
  });

describe("The public listing's cache", () => {
  beforeAll(() => listening());

  test("When the listing is read twice with nothing changed in between, then the second read comes from memory", async () => {
    await firstPage();
    const before = await lookups();
    await firstPage();
    const after = await lookups();
    expect(after("hit")).toBe(before("hit") + 1);
    expect(after("miss")).toBe(before("miss"));
  });

  test("When a ticket is created, then the very next listing on the same service shows it, without waiting for the notification", async () => {
    await firstPage();
    // the notifications connection is kept busy: PostgreSQL delivers nothing to it meanwhile
    const notifications = (under.service.ctx.notifications as unknown as { client: { query(text: string): Promise<unknown> } }).client;
    const busy = notifications.query("select pg_sleep(1)");
    try {
      const made = await createTicket(under.service, seller.cookie, { title: "Fresh", price: 10 });
      expect((await firstPage())[0]).toBe(made.id);
    } finally {
      await busy;
    }
  });

  test("When a ticket is reserved by an order, then the next listing leaves it out", async () => {
    const made = await createTicket(under.service, seller.cookie, { title: "Soon gone", price: 10 });
    expect(await firstPage()).toContain(made.id);
    await publish(under.service, "order.created", anOrder({ ticketId: made.id }).created());
    await eventually(async () => (await getTicket(under.service, made.id)).status === "reserved");
    expect(await firstPage()).not.toContain(made.id);
  });

  test("When a ticket changes in the database behind the service's back, then the listing shows it at once, not an hour later", async () => {
    const made = await createTicket(under.service, seller.cookie, { title: "By hand", price: 10 });
    expect(await firstPage()).toContain(made.id);
    await sql`update tickets set status = 'sold', order_id = 'by-hand', version = version + 1 where id = ${made.id}`.execute(
      under.service.database.db,
    );
    await eventually(async () => !(await firstPage()).includes(made.id), 2_000);
  });

  test("When another replica on the same database creates a ticket, then this replica's listing shows it", async () => {
    const other = await startTestService(tickets, under.nats.url, { database: under.service.database });
    try {
      await firstPage();
      const made = await createTicket(other, seller.cookie, { title: "Elsewhere", price: 10 });
      await eventually(async () => (await firstPage())[0] === made.id, 2_000);
    } finally {
      await other.close();
    }
  });

  test("When a visitor and the seller read the same page from memory, then only the seller sees who sells their ticket", async () => {
    const made = await createTicket(under.service, seller.cookie, { title: "Whose", price: 10 });
    const read = async (cookie: string) => {
      const res = await request(under.service.app).get("/api/tickets").set("Cookie", cookie).query({ limit: "100" });
      return res.body.find((t: { id: string }) => t.id === made.id);
    };
    // the page is in memory once the creation's own notification has come and gone
    await eventually(async () => {
      const was = await lookups();
      await firstPage();
      return (await lookups())("hit") > was("hit");
    });
    const before = await lookups();
    expect(await read("")).toEqual({ id: made.id, title: "Whose", price: 10, version: 0, status: "available" });
    expect(await read(seller.cookie)).toEqual({
      id: made.id,
      title: "Whose",
      price: 10,
      userId: seller.id,
      version: 0,
      orderId: null,
      status: "available",
    });
    expect(await read(aUser().cookie)).toEqual({ id: made.id, title: "Whose", price: 10, version: 0, status: "available" });
    expect(await read("")).toEqual({ id: made.id, title: "Whose", price: 10, version: 0, status: "available" });
    expect((await lookups())("hit")).toBe(before("hit") + 4);
  });

  test("When a page from memory has a next page, then it carries the cursor to it", async () => {
    const older = await createTicket(under.service, seller.cookie, { title: "Older", price: 10 });
    const newer = await createTicket(under.service, seller.cookie, { title: "Newer", price: 10 });
    for (let i = 0; i < 2; i++) {
      const first = await request(under.service.app).get("/api/tickets").query({ limit: "1" });
      expect(first.body.map((t: { id: string }) => t.id)).toEqual([newer.id]);
      const next = await request(under.service.app).get("/api/tickets").query({ limit: "1", cursor: first.headers["x-next-cursor"] });
      expect(next.body.map((t: { id: string }) => t.id)).toEqual([older.id]);
    }
  });

  test("When a request says Cache-Control: no-cache, then it is answered from the database", async () => {
    await firstPage();
    const before = await lookups();
    await firstPage(under.service, { "Cache-Control": "no-cache" });
    const after = await lookups();
    expect(after("bypass")).toBe(before("bypass") + 1);
    expect(after("hit")).toBe(before("hit"));
  });

  test("When the connection that hears of changes is cut, then the service listens again and changes made after that still show", async () => {
    const db = under.service.database.db;
    const cut = await sql<{ cut: boolean }>`select pg_terminate_backend(pid) as cut from pg_stat_activity
      where application_name = 'tickets-notifications' and datname = current_database()`.execute(db);
    expect(cut.rows.map((r) => r.cut)).toContain(true);
    await eventually(async () => {
      const r =
        await sql`select 1 from pg_stat_activity where application_name = 'tickets-notifications' and datname = current_database()`.execute(
          db,
        );
      return r.rows.length > 0;
    });
    await listening();
    const made = await createTicket(under.service, seller.cookie, { title: "After the cut", price: 10 });
    expect(await firstPage()).toContain(made.id);
    await sql`update tickets set status = 'sold', order_id = 'by-hand', version = version + 1 where id = ${made.id}`.execute(db);
    await eventually(async () => !(await firstPage()).includes(made.id), 2_000);
  });
});

describe("ListingCache", () => {
  const live = (options: ConstructorParameters<typeof ListingCache<string>>[0]) => {
    const cache = new ListingCache<string>(options);
    cache.live(true);
    return cache;
  };

  test("When a change comes while a page is being read, then that page is not kept", async () => {
    const cache = live({ maxAgeMs: 60_000 });
    let finish = (_: string) => undefined as void;
    const reading = cache.get("p", () => new Promise<string>((resolve) => (finish = resolve)));
    cache.changed();
    finish("before the change");
    expect(await reading).toEqual({ value: "before the change", result: "miss" });
    expect(await cache.get("p", async () => "after the change")).toEqual({ value: "after the change", result: "miss" });
  });

  test("When several requests want the same page at once, then one query serves them all", async () => {
    const cache = live({ maxAgeMs: 60_000 });
    let queries = 0;
    const load = async () => {
      queries++;
      await new Promise((r) => setTimeout(r, 20));
      return "page";
    };
    const answers = await Promise.all([1, 2, 3].map(() => cache.get("p", load)));
    expect(queries).toBe(1);
    expect(answers.map((a) => a.result)).toEqual(["miss", "hit", "hit"]);
  });

  test("When a page is older than maxAgeMs, then it is read again", async () => {
    let now = 0;
    const cache = live({ maxAgeMs: 1_000, now: () => now });
    await cache.get("p", async () => "old");
    now = 999;
    expect((await cache.get("p", async () => "new")).value).toBe("old");
    now = 1_000;
    expect((await cache.get("p", async () => "new")).value).toBe("new");
  });

  test("When it does not listen for changes, or is turned off, then every page comes from the query and none is kept", async () => {
    for (const cache of [new ListingCache<string>({ maxAgeMs: 60_000 }), live({ maxAgeMs: 0 })]) {
      await cache.get("p", async () => "first");
      expect(await cache.get("p", async () => "second")).toEqual({ value: "second", result: "bypass" });
    }
    const lost = live({ maxAgeMs: 60_000 });
    await lost.get("p", async () => "kept");
    lost.live(false);
    lost.live(true);
    expect((await lost.get("p", async () => "read again")).value).toBe("read again");
  });

  test("When more pages than maxEntries are read, then the least recently used one goes", async () => {
    const cache = live({ maxAgeMs: 60_000, maxEntries: 2 });
    await cache.get("a", async () => "a");
    await cache.get("b", async () => "b");
    await cache.get("a", async () => "a again"); // a is now the most recent
    await cache.get("c", async () => "c");
    expect((await cache.get("a", async () => "reread")).result).toBe("hit");
    expect((await cache.get("b", async () => "reread")).result).toBe("miss");
  });
});

describe("TICKETS_LISTING_CACHE_MS", () => {
  const env = { JWT_PUBLIC_KEY: testSessionKeys.publicKey, DATABASE_URL: "postgres://db/tickets" };

  test("When it is not set, then pages are kept at most 5 s; 0 turns the cache off", () => {
    expect(loadConfig("tickets", settings, env).TICKETS_LISTING_CACHE_MS).toBe(5_000);
    expect(loadConfig("tickets", settings, { ...env, TICKETS_LISTING_CACHE_MS: "0" }).TICKETS_LISTING_CACHE_MS).toBe(0);
  });

  test.each(["-1", "soon", "2.5"])("When it is %j, then start-up stops naming it", (value) => {
    expect(() => loadConfig("tickets", settings, { ...env, TICKETS_LISTING_CACHE_MS: value })).toThrow(ConfigError);
    expect(() => loadConfig("tickets", settings, { ...env, TICKETS_LISTING_CACHE_MS: value })).toThrow(/TICKETS_LISTING_CACHE_MS/);
  });
});
