import request from "supertest";
import { sql } from "@ticketforge/common";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { startTestService, type TestService } from "@ticketforge/common/testing";
import { tickets } from "../src/service";
import { ticketPage, ticketPageQuery, type PageRequest } from "../src/db/tickets";
import { encodeCursor } from "../src/db/cursor";

let nats: NatsServer;
let service: TestService;
const seller = "00000000-0000-4000-8000-000000000001";
const total = 100_000;

beforeAll(async () => {
  nats = await startNatsServer();
  service = await startTestService(tickets, nats.url);
  // 100k tickets of one seller, one a second apart; every tenth is reserved, every twentieth sold
  await sql`insert into tickets (title, price_cents, user_id, status, order_id, created_at)
    select 'Ticket ' || g, 1000 + g, ${seller},
      case when g % 20 = 0 then 'sold' when g % 10 = 0 then 'reserved' else 'available' end,
      case when g % 10 = 0 then gen_random_uuid()::text end,
      timestamptz '2025-01-01' + g * interval '1 second'
    from generate_series(1, ${total}) g`.execute(service.ctx.db);
  await sql`analyze tickets`.execute(service.ctx.db);
}, 120_000);
afterAll(async () => {
  await service?.close();
  await nats?.destroy();
});

async function plan(page: PageRequest): Promise<string> {
  const r = await sql<{ "QUERY PLAN": string }>`explain ${ticketPageQuery(page)}`.execute(service.ctx.db);
  return r.rows.map((row) => row["QUERY PLAN"]).join("\n");
}

/** The position of the n-th newest ticket of the listing, as a cursor would carry it. */
async function positionOf(n: number, where = sql`status = 'available'`) {
  const r = await sql<{ id: string; position_at: string }>`select id,
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at
    from tickets where ${where} order by created_at desc, id desc offset ${n - 1} limit 1`.execute(service.ctx.db);
  return { at: r.rows[0].position_at, id: r.rows[0].id };
}

describe("GET /api/tickets with 100k tickets", () => {
  test("When listing the first page or a deep page of available tickets, then the query walks the index, never the whole table", async () => {
    const deep = await positionOf(85_000);
    for (const page of [{ limit: 21 }, { limit: 21, after: deep }, { limit: 101, search: "Ticket 9", after: deep }]) {
      const text = await plan(page);
      expect(text).toMatch(/Index Scan using tickets_available_newest on tickets/);
      expect(text).not.toMatch(/Seq Scan/);
      expect(text).not.toMatch(/Sort/);
    }
  });

  test("When a buyer searches titles for a rare word, then the query looks it up in the trigram index, never walking every ticket", async () => {
    for (const search of ["Ticket 54321", "ticket 7777", "icket 98765"]) {
      const text = await plan({ limit: 21, search });
      expect([search, text]).toEqual([search, expect.stringMatching(/Bitmap Index Scan on tickets_available_title_trgm/)]);
      expect(text).not.toMatch(/Seq Scan/);
      expect(text).not.toMatch(/Index Scan using tickets_available_newest/);
    }
    // and the answer is the one the scan gave: the matching titles, newest first
    const found = await ticketPage(service.ctx.db, { limit: 21, search: "ticket 54321" });
    expect(found.map((t) => t.title)).toEqual(["Ticket 54321"]);
  });

  test("When ANALYZE runs again, then the title histogram those search plans come from is the same, not a new random sample", async () => {
    const histogram = async () => {
      await sql`analyze tickets`.execute(service.ctx.db);
      const r = await sql<{ bounds: string }>`select histogram_bounds::text as bounds
        from pg_stats where tablename = 'tickets' and attname = 'title'`.execute(service.ctx.db);
      return r.rows[0].bounds;
    };
    const first = await histogram();
    expect(first.split(",").length).toBeGreaterThan(900);
    expect(await histogram()).toBe(first);
  });

  test("When a seller lists their own tickets, first page or deep, then the query walks the seller's index", async () => {
    const deep = await positionOf(95_000, sql`user_id = ${seller}`);
    for (const page of [
      { limit: 21, userId: seller },
      { limit: 21, userId: seller, after: deep },
    ]) {
      const text = await plan(page);
      expect(text).toMatch(/Index Scan using tickets_by_user on tickets/);
      expect(text).not.toMatch(/Seq Scan/);
      expect(text).not.toMatch(/Sort/);
    }
  });

  test("When a deep page is asked for through the API, then it starts right after the cursor's ticket", async () => {
    const deep = await positionOf(80_000);
    const res = await request(service.app)
      .get("/api/tickets")
      .query({ limit: "3", cursor: encodeCursor({ position_at: deep.at, id: deep.id }) });
    expect(res.status).toBe(200);
    const expected = await sql<{ id: string }>`select id from tickets where status = 'available'
      order by created_at desc, id desc offset 80000 limit 3`.execute(service.ctx.db);
    expect(res.body.map((t: { id: string }) => t.id)).toEqual(expected.rows.map((r) => r.id));
    expect(res.headers["x-next-cursor"]).toEqual(expect.any(String));
  });
});
