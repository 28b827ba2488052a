import { aUser, anOrder, publish, signInCookie } from "@ticketforge/common/testing";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { tickets } from "../src/service";
import { createTicket, getTicket } from "./helpers";

const api = () => request(under.service.app);
const seller = aUser();
const otherKey = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

// every request here comes from this machine's one address, and many search: the per-network
// limit on searches has its own test (search-limit.test.ts)
const under = serviceUnderTest(tickets, { config: { TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE: 1_000_000 } });

/** A word no other test uses: searching for it scopes a listing to this test's tickets. */
const uniqueWord = () => `w${randomUUID().slice(0, 8)}`;

/** Creates tickets one after another (so each is newer than the one before); returns them newest first. */
async function offer(cookie: string, titles: string[]) {
  const made = [];
  for (const title of titles) made.push(await createTicket(under.service, cookie, { title, price: 10 }));
  return made.reverse();
}

async function reserve(ticketId: string) {
  await publish(under.service, "order.created", anOrder({ ticketId }).created());
  await eventually(async () => (await getTicket(under.service, ticketId)).status === "reserved");
}

/** Follows X-Next-Cursor to the end; returns every page's ids. */
async function allPages(query: Record<string, string>, cookie = "") {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const res = await api()
      .get("/api/tickets")
      .set("Cookie", cookie)
      .query(cursor ? { ...query, cursor } : query);
    expect(res.status).toBe(200);
    pages.push(res.body.map((t: { id: string }) => t.id));
    cursor = res.headers["x-next-cursor"];
  } while (cursor);
  return pages;
}

describe("GET /api/tickets", () => {
  test("When anyone lists tickets, then they get the ones that can be bought, newest first, and only the seller sees who sells them", async () => {
    const word = uniqueWord();
    const [newest, middle, oldest] = await offer(seller.cookie, [`${word} 1`, `${word} 2`, `${word} 3`]);
    await reserve(middle.id);
    const publicView = ({ userId: _seller, orderId: _order, ...rest }: typeof newest) => rest;
    for (const [cookie, expected] of [
      [seller.cookie, [newest, oldest]],
      [aUser().cookie, [publicView(newest), publicView(oldest)]],
      ["", [publicView(newest), publicView(oldest)]],
      // the seller's id in a token signed by another key: the claim is checked, and fails
      [signInCookie(otherKey, { id: seller.id }).cookie, [publicView(newest), publicView(oldest)]],
    ] as const) {
      const res = await api().get("/api/tickets").set("Cookie", cookie).query({ q: word });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expected);
      expect(res.headers["x-next-cursor"]).toBeUndefined();
    }
  });

  test("When a listing is answered, then it carries no ETag: nothing hashes the page, and no client revalidates a stale one", async () => {
    const res = await api().get("/api/tickets");
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBeUndefined();
  });

  test("When paging with limit and the cursor, then every ticket comes once, in order, and the last page has no cursor", async () => {
    const word = uniqueWord();
    const made = await offer(
      seller.cookie,
      [1, 2, 3, 4, 5].map((n) => `${word} ${n}`),
    );
    const pages = await allPages({ q: word, limit: "2" });
    expect(pages).toEqual([[made[0].id, made[1].id], [made[2].id, made[3].id], [made[4].id]]);
  });

  test("When no limit is given, then a page holds 20 tickets, and 100 is the most one can ask for", async () => {
    const word = uniqueWord();
    await offer(
      seller.cookie,
      Array.from({ length: 21 }, (_, i) => `${word} ${i}`),
    );
    const first = await api().get("/api/tickets").query({ q: word });
    expect(first.body).toHaveLength(20);
    expect(first.headers["x-next-cursor"]).toEqual(expect.any(String));
    const all = await api().get("/api/tickets").query({ q: word, limit: "100" });
    expect(all.body).toHaveLength(21);
    expect(all.headers["x-next-cursor"]).toBeUndefined();
  });

  test("When searching, then the title matches in any letter case, and % and _ are plain characters", async () => {
    const word = uniqueWord();
    const [axb, aUnderscoreB, thousand, percent] = await offer(seller.cookie, [
      `${word} 100% fun`,
      `${word} 1000 fun`,
      `${word} a_b`,
      `${word} axb`,
    ]);
    const titles = async (q: string) => (await api().get("/api/tickets").query({ q })).body.map((t: { id: string }) => t.id);
    expect(await titles(`${word.toUpperCase()} 100%`)).toEqual([percent.id]);
    expect(await titles(`${word} A_B`)).toEqual([aUnderscoreB.id]);
    expect(await titles(`${word} a`)).toEqual([axb.id, aUnderscoreB.id]);
    expect(await titles(`${word} 100`)).toEqual([thousand.id, percent.id]);
  });

  test.each([["0"], ["101"], ["abc"], ["-1"], ["1.5"], ["1000"], [["1", "2"]]])(
    "When the limit is %j, then 400 naming limit",
    async (limit) => {
      const res = await api().get("/api/tickets").query({ limit });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: "limit", message: expect.any(String) }]);
    },
  );

  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  test.each([
    ["not base64", "%%%"],
    ["not JSON", Buffer.from("hello").toString("base64url")],
    ["a JSON object", encode({ at: "2025-01-01T00:00:00.000000Z", id: randomUUID() })],
    ["an impossible date", encode(["2025-02-30T00:00:00.000000Z", randomUUID()])],
    ["year 0", encode(["0000-01-01T00:00:00.000000Z", randomUUID()])],
    ["a malformed id", encode(["2025-01-01T00:00:00.000000Z", "nope"])],
    ["far too long", "A".repeat(500)],
  ])("When the cursor is %s, then 400 naming cursor", async (_what, cursor) => {
    const res = await api().get(`/api/tickets?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: "cursor", message: "Cursor is not valid" }]);
  });

  test.each([
    [{ q: "x".repeat(201) }, "q"],
    [{ mine: "yes please" }, "mine"],
    [{ q: "con\u0000cert" }, "q"],
    [{ q: "\u202Etrecnoc" }, "q"],
  ])("When the query is %j, then 400 naming %s", async (query, field) => {
    const res = await api().get("/api/tickets").set("Cookie", seller.cookie).query(query);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  test("When the parameters are empty, then the defaults apply", async () => {
    const res = await api().get("/api/tickets?limit=&cursor=&q=&mine=");
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
  });
});

describe("GET /api/tickets?mine=true", () => {
  test("When a seller lists their own tickets, then they get all of them whatever their status, newest first, and nobody else's", async () => {
    const me = aUser();
    const [third, second, first] = await offer(me.cookie, ["first", "second", "third"]);
    await reserve(second.id);
    await createTicket(under.service, aUser().cookie, { title: "someone else's", price: 10 });
    const res = await api().get("/api/tickets").set("Cookie", me.cookie).query({ mine: "true" });
    expect(res.status).toBe(200);
    expect(res.body.map((t: { id: string }) => t.id)).toEqual([third.id, second.id, first.id]);
    expect(res.body[1]).toMatchObject({ status: "reserved", orderId: expect.any(String) });
  });

  test("When a seller pages through their own tickets, then every one comes once", async () => {
    const me = aUser();
    const made = await offer(me.cookie, ["a", "b", "c"]);
    expect(await allPages({ mine: "true", limit: "2" }, me.cookie)).toEqual([[made[0].id, made[1].id], [made[2].id]]);
    expect(await allPages({ mine: "true", q: "B" }, me.cookie)).toEqual([[made[1].id]]);
  });

  test("When nobody is signed in, then 401", async () => {
    const res = await api().get("/api/tickets").query({ mine: "true" });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: "Not authorized" }] });
  });

  test("When mine is false, then the listing is the public one", async () => {
    const me = aUser();
    const word = uniqueWord();
    const [mine] = await offer(me.cookie, [`${word} mine`]);
    const res = await api().get("/api/tickets").set("Cookie", me.cookie).query({ mine: "false", q: word });
    expect(res.body.map((t: { id: string }) => t.id)).toEqual([mine.id]);
  });
});
