import express from "express";
import { sql, type KyselyPlugin } from "kysely";
import request from "supertest";
import { createHttpApp, idempotent, requireAuth, type Database } from "../src";
import { aUser, openTestDatabase, silentLogger, testSessionKeys } from "../src/testing";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

/** A route behind the middleware, on `db`: it answers 201 with what it was sent. */
function appOn(db: Database["db"]) {
  return createHttpApp(
    { log: silentLogger(), jwtPublicKey: testSessionKeys.publicKey, trustProxy: "false", ready: async () => true },
    (a: express.Express) => {
      a.use(express.json());
      a.post("/api/things", requireAuth, idempotent(db, "things"), (req, res) => void res.status(201).json({ made: req.body }));
    },
  );
}

describe("an Idempotency-Key freed while a retry looks at it", () => {
  test("When the first request's key is freed between the retry's claim and its look (the first answered 503), then the retry does the work instead of a 422", async () => {
    const buyer = aUser();
    const body = { thing: 1 };
    // the first request: the key is at work, as when its route met a database that was down
    const first = await request(appOn(database.db))
      .post("/api/things")
      .set("Cookie", buyer.cookie)
      .set("Idempotency-Key", "k-1")
      .send(body);
    expect(first.status).toBe(201);
    await sql`update idempotency_keys set status = null, body = null where key = 'k-1'`.execute(database.db);

    // the retry's claim finds the key taken; right after, the first request's answer frees it
    let freed = false;
    const freeAfterClaim: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        if (!freed) {
          freed = true;
          await sql`delete from idempotency_keys where key = 'k-1' and status is null`.execute(database.db);
        }
        return args.result;
      },
    };
    const retry = await request(appOn(database.db.withPlugin(freeAfterClaim)))
      .post("/api/things")
      .set("Cookie", buyer.cookie)
      .set("Idempotency-Key", "k-1")
      .send(body);
    expect(freed).toBe(true);
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 201, body: { made: body } });
  });
});
