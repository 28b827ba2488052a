import express from "express";
import { Client, Pool } from "pg";
import request from "supertest";
import { freePort } from "@ticketforge/nats";
import { createHttpApp, databaseUnavailable } from "../src";
import { silentLogger, testSessionKeys } from "../src/testing";

const serverUrl = process.env.TEST_DATABASE_URL!;

/** The error a promise rejects with. */
const failure = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

describe("what says the database is unavailable", () => {
  test("When pg connects to a port where no server listens, then its error says unavailable", async () => {
    const client = new Client({ host: "127.0.0.1", port: await freePort(), user: "x", database: "x" });
    const err = await failure(client.connect());
    expect(err).toBeDefined();
    expect(databaseUnavailable(err)).toBe(true);
  });

  test("When the server ends a session (administrator command), then the query's error and the next query's say unavailable", async () => {
    const victim = new Client({ connectionString: serverUrl });
    const admin = new Client({ connectionString: serverUrl });
    victim.on("error", () => undefined);
    await victim.connect();
    await admin.connect();
    try {
      const { rows } = await victim.query<{ pid: number }>("select pg_backend_pid() as pid");
      const sleeping = failure(victim.query("select pg_sleep(10)"));
      await new Promise((r) => setTimeout(r, 200));
      await admin.query("select pg_terminate_backend($1)", [rows[0].pid]);
      const ended = (await sleeping) as { code?: string };
      expect(ended.code).toBe("57P01");
      expect(databaseUnavailable(ended)).toBe(true);
      const after = await failure(victim.query("select 1"));
      expect(databaseUnavailable(after)).toBe(true);
    } finally {
      await victim.end().catch(() => undefined);
      await admin.end();
    }
  });

  test("When the server admits no more connections (too many clients), then the refusal says unavailable", async () => {
    // a role allowed no connection at all is refused as a full server refuses everyone: 53300
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    const role = `tf_full_${process.pid}`;
    try {
      await admin.query(`create role ${role} login password 'full-server' connection limit 0`);
      const url = new URL(serverUrl);
      url.username = role;
      url.password = "full-server";
      const client = new Client({ connectionString: url.toString() });
      const refused = (await failure(client.connect())) as { code?: string };
      await client.end().catch(() => undefined);
      expect(refused.code).toBe("53300");
      expect(databaseUnavailable(refused)).toBe(true);
    } finally {
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  });

  test("When a statement is refused (a unique violation, a syntax error), then it is not unavailability", async () => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      expect(databaseUnavailable(await failure(client.query("selec 1")))).toBe(false);
      await client.query("create temporary table once (id int primary key)");
      await client.query("insert into once values (1)");
      expect(databaseUnavailable(await failure(client.query("insert into once values (1)")))).toBe(false);
    } finally {
      await client.end();
    }
    expect(databaseUnavailable(new Error("Something else"))).toBe(false);
    expect(databaseUnavailable(undefined)).toBe(false);
  });

  test("When postgres.js reports a closed or refused connection, or the server is starting up, then it says unavailable", () => {
    // postgres.js's error shapes (its documented codes), for the driver the services move to
    for (const code of ["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNREFUSED"]) {
      expect(databaseUnavailable(Object.assign(new Error(`write ${code}`), { code }))).toBe(true);
    }
    // SQLSTATE 57P03 (the database system is starting up), 08006 (connection failure), wrapped by a caller
    expect(databaseUnavailable(new Error("query failed", { cause: Object.assign(new Error("starting up"), { code: "57P03" }) }))).toBe(
      true,
    );
    expect(databaseUnavailable(Object.assign(new Error("lost"), { code: "08006" }))).toBe(true);
  });
});

describe("an API call while the database is down", () => {
  test("When a route's query cannot reach the database, then the answer is 503 with Retry-After, and another failure is still a 500", async () => {
    const pool = new Pool({ host: "127.0.0.1", port: await freePort(), user: "x", database: "x" });
    const app = createHttpApp(
      { log: silentLogger(), jwtPublicKey: testSessionKeys.publicKey, trustProxy: "false", ready: async () => false },
      (a: express.Express) => {
        a.get("/api/things", async (_req, res) => {
          res.json((await pool.query("select 1")).rows);
        });
        a.get("/api/bug", () => {
          throw new Error("a real bug");
        });
      },
    );
    try {
      const down = await request(app).get("/api/things");
      expect(down.status).toBe(503);
      expect(down.headers["retry-after"]).toBe("2");
      expect(down.body.errors[0].message).toMatch(/unavailable/);
      expect((await request(app).get("/api/bug")).status).toBe(500);
      expect((await request(app).get("/readyz")).status).toBe(503);
    } finally {
      await pool.end();
    }
  });
});
