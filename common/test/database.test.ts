import fs from "node:fs";
import { sql } from "kysely";
import { commonMigrationsDir, migrate, openDatabase, RateLimiter, statements } from "../src";
import { createTestDatabase, openTestDatabase } from "../src/testing";

describe("migrations", () => {
  test("When migrations run twice, then each file is applied once and recorded", async () => {
    const empty = await createTestDatabase();
    const database = await openDatabase({ url: empty.url });
    try {
      const files = fs
        .readdirSync(commonMigrationsDir)
        .filter((f) => f.endsWith(".sql"))
        .sort()
        .map((f) => `common/${f}`);
      expect(await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }])).toEqual(files);
      expect(await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }])).toEqual([]);
      const rows = await sql<{ name: string }>`select name from schema_migrations`.execute(database.db);
      expect(rows.rows.map((r) => r.name)).toEqual(files);
    } finally {
      await database.close();
      await empty.drop();
    }
  });

  test("When a test file opens its database, then it is a clone of its service's migrated template, and its own", async () => {
    const first = await openTestDatabase();
    const second = await openTestDatabase();
    try {
      const names = await sql<{ name: string }>`select name from schema_migrations`.execute(first.db);
      const files = fs
        .readdirSync(commonMigrationsDir)
        .filter((f) => f.endsWith(".sql"))
        .sort();
      expect(names.rows.map((r) => r.name)).toEqual(files.map((f) => `common/${f}`));
      await sql`insert into inbox (consumer, event_id) values ('tickets', gen_random_uuid())`.execute(first.db);
      const seen = await sql<{ n: string }>`select count(*) as n from inbox`.execute(second.db);
      expect(Number(seen.rows[0].n)).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("When a file has several statements and a dollar-quoted body, then it is split at statement ends only", () => {
    const text = "-- note\ncreate table a (x int);\ncreate function f() returns int as $$\nselect 1;\n$$ language sql;\n";
    expect(statements(text)).toEqual(["create table a (x int);", "create function f() returns int as $$\nselect 1;\n$$ language sql;"]);
  });

  test("When PostgreSQL is unreachable, then opening fails with a message naming it, without the password", async () => {
    await expect(openDatabase({ url: "postgres://app:secret@127.0.0.1:1/none" })).rejects.toThrow(
      /Cannot reach PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/none/,
    );
  });
});

describe("the connection pool", () => {
  test("When several transactions run at once, then the server runs them side by side (one backend each)", async () => {
    const database = await openTestDatabase();
    try {
      const sleeping = Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.5) as tf_concurrency_probe`.execute(database.db)));
      await new Promise((r) => setTimeout(r, 250));
      const active = await sql<{ n: string }>`
        select count(*) as n from pg_stat_activity
        where state = 'active' and query like '%tf_concurrency_probe%' and pid <> pg_backend_pid()`.execute(database.db);
      await sleeping;
      expect(Number(active.rows[0].n)).toBe(4);
    } finally {
      await database.close();
    }
  });

  test.each([
    { keepOpen: undefined, kept: 4 },
    { keepOpen: 1, kept: 1 },
  ])(
    "When a burst has opened connections and they sit idle, then the pool keeps $kept of them (keepOpen $keepOpen)",
    async ({ keepOpen, kept }) => {
      const own = await createTestDatabase();
      const database = await openDatabase({ url: own.url, poolSize: 4, keepOpen, idleTimeoutMs: 1_000 });
      try {
        await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.2)`.execute(database.db)));
        const open = async () =>
          Number(
            (await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database()`.execute(database.db))
              .rows[0].n,
          );
        expect(await open()).toBe(4);
        await new Promise((r) => setTimeout(r, 2_000));
        expect(await open()).toBe(kept);
      } finally {
        await database.close();
        await own.drop();
      }
    },
  );
});

describe("rate-limit counters", () => {
  test("When hits are counted, then they add up in a table that writes no WAL (unlogged: a hit never waits for the disk; docs/threat-model.md)", async () => {
    const database = await openTestDatabase();
    try {
      const limiter = new RateLimiter(database.db, { name: "test", limit: 2, windowSeconds: 60 });
      expect((await limiter.hit("a")).hits).toBe(1);
      expect((await limiter.hit("a")).hits).toBe(2);
      expect((await limiter.hit("b")).hits).toBe(1);
      const table = await sql<{ relpersistence: string }>`select relpersistence from pg_class where oid = 'rate_limits'::regclass`.execute(
        database.db,
      );
      expect(table.rows[0].relpersistence).toBe("u");
    } finally {
      await database.close();
    }
  });
});
