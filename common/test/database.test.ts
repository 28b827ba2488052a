import fs from "node:fs";
import { sql } from "kysely";
import { commonMigrationsDir, migrate, openDatabase, publishEvent, sendWithNext, statements, takeWrittenEvents } from "../src";
import { createTestDatabase, openTestDatabase } from "../src/testing";

describe("migrations", () => {
  test("When migrations run twice, then each file is applied once and recorded", async () => {
    const empty = await createTestDatabase();
    const database = await openDatabase({ url: empty.url });
    try {
      const files = fs.readdirSync(commonMigrationsDir).filter((f) => f.endsWith(".sql")).sort().map((f) => `common/${f}`);
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
      const files = fs.readdirSync(commonMigrationsDir).filter((f) => f.endsWith(".sql")).sort();
      expect(names.rows.map((r) => r.name)).toEqual(files.map((f) => `common/${f}`));
      await sql`insert into inbox (consumer, event_id) values ('tickets', gen_random_uuid())`.execute(first.db);
      const seen = await sql<{ n: string }>`select count(*) as n from inbox`.execute(second.db);
      expect(Number(seen.rows[0].n)).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });

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

describe("round trips of a transaction", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeEach(async () => {
    database = await openTestDatabase();
  });
  afterEach(() => database.close());

  /** Counts the server's ReadyForQuery messages on every connection of `database`: one per round trip. */
  function roundTrips() {
    const counter = { n: 0 };
    const watched = new WeakSet<object>();
    database.pool.on("acquire", (client) => {
      if (watched.has(client)) return;
      watched.add(client);
      (client as unknown as { connection: { on(e: string, f: () => void): void } }).connection.on("readyForQuery", () => counter.n++);
    });
    return counter;
  }

  test("When a transaction runs three statements, then begin travels with the first: four round trips with the commit, and the first is inside it", async () => {
    const trips = roundTrips();
    await sql`select 1`.execute(database.db); // the pool's connection, watched from here on
    const before = trips.n;
    expect(before).toBe(1);
    const times = await database.db.transaction().execute(async (tx) => {
      const first = await sql<{ at: string }>`select now()::text as at, ${1}::int as n`.execute(tx);
      await sql`select pg_sleep(${0.02})`.execute(tx);
      const last = await sql<{ at: string }>`select now()::text as at`.execute(tx);
      return [first.rows[0].at, last.rows[0].at];
    });
    expect(trips.n - before).toBe(4);
    // now() is the start of the transaction: the same in the first statement as in the last
    expect(times[0]).toBe(times[1]);
  });

  test("When a transaction sends nothing, then neither begin nor commit is sent", async () => {
    const trips = roundTrips();
    await sql`select 1`.execute(database.db);
    const before = trips.n;
    expect(before).toBe(1);
    expect(await database.db.transaction().execute(async () => "nothing")).toBe("nothing");
    expect(trips.n - before).toBe(0);
  });

  test("When the first statement of a transaction fails, then nothing of it stays, and the statement works again afterwards", async () => {
    const insert = (tx: import("../src").Queryable, id: string) =>
      sql`insert into inbox (consumer, event_id) values (${"round-trips"}, ${id}::uuid)`.execute(tx);
    const id = "00000000-0000-4000-8000-000000000001";
    // the row is there already (written by another statement text: the one under test is new to the connection)
    await sql`insert into inbox (consumer, event_id) values (${"round-trips"}, ${id}::uuid) returning event_id`.execute(database.db);
    // the first statement of the transaction breaks the primary key: begin was sent with it
    await expect(database.db.transaction().execute((tx) => insert(tx, id))).rejects.toMatchObject({ code: "23505" });
    // a rolled-back transaction whose first statement succeeded leaves nothing either
    const other = "00000000-0000-4000-8000-000000000002";
    await expect(
      database.db.transaction().execute(async (tx) => {
        await insert(tx, other);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    const rows = await sql<{ n: string }>`select count(*) as n from inbox where consumer = 'round-trips'`.execute(database.db);
    expect(Number(rows.rows[0].n)).toBe(1);
    // the connection is healthy and the prepared statement still usable
    await insert(database.db, other);
  });

  test("When a statement text is wrong, then it fails with PostgreSQL's error every time, in a transaction or not", async () => {
    const broken = (q: import("../src").Queryable) => sql`selec ${1}::int`.execute(q);
    await expect(database.db.transaction().execute((tx) => broken(tx))).rejects.toThrow(/syntax error/);
    await expect(broken(database.db)).rejects.toThrow(/syntax error/);
    await expect(database.db.transaction().execute((tx) => broken(tx))).rejects.toThrow(/syntax error/);
  });
  test("When a transaction writes an event, then its outbox row travels with the commit: no round trip of its own", async () => {
    const trips = roundTrips();
    await sql`select 1`.execute(database.db);
    const before = trips.n;
    const eventId = await database.db.transaction().execute(async (tx) => {
      await sql`insert into inbox (consumer, event_id) values (${"with-commit"}, gen_random_uuid())`.execute(tx);
      const id = await publishEvent(tx, "expiration.complete", { orderId: "00000000-0000-4000-8000-00000000000a" });
      takeWrittenEvents(tx);
      return id;
    });
    // begin with the insert, then the outbox row with the commit
    expect(trips.n - before).toBe(2);
    const rows = await sql<{ id: string }>`select id from outbox where id = ${eventId}`.execute(database.db);
    expect(rows.rows).toHaveLength(1);
  });

  test("When a held statement fails, then the statement it travelled with fails with its error, and nothing of the transaction stays", async () => {
    const id = "00000000-0000-4000-8000-00000000000b";
    await sql`insert into inbox (consumer, event_id) values (${"held"}, ${id}::uuid)`.execute(database.db);
    await expect(
      database.db.transaction().execute(async (tx) => {
        await sql`insert into inbox (consumer, event_id) values (${"held"}, gen_random_uuid())`.execute(tx);
        // breaks the primary key, but is only sent with the commit
        await sql`${sendWithNext}insert into inbox (consumer, event_id) values (${"held"}, ${id}::uuid)`.execute(tx);
      }),
    ).rejects.toMatchObject({ code: "23505" });
    const rows = await sql<{ n: string }>`select count(*) as n from inbox where consumer = 'held'`.execute(database.db);
    expect(Number(rows.rows[0].n)).toBe(1);
  });

  test("When a held statement fails before the statement it travelled with was parsed, then both texts work afterwards", async () => {
    const id = "00000000-0000-4000-8000-00000000000d";
    await sql`insert into inbox (consumer, event_id) values (${"parse-order"}, ${id}::uuid) returning 1`.execute(database.db);
    const held = (q: import("../src").Queryable) =>
      sql`${sendWithNext}insert into inbox (consumer, event_id) values (${"parse-order"}, ${id}::uuid)`.execute(q);
    const carrier = (q: import("../src").Queryable) => sql<{ n: string }>`select count(*)::text as n from inbox where consumer = ${"parse-order"}`.execute(q);
    // both texts are new to the connection; the held one breaks the primary key
    await expect(
      database.db.transaction().execute(async (tx) => {
        await held(tx);
        await carrier(tx);
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect((await carrier(database.db)).rows[0].n).toBe("1");
    await expect(held(database.db)).rejects.toMatchObject({ code: "23505" });
    expect((await carrier(database.db)).rows[0].n).toBe("1");
  });

  test("When held statements return rows, then the statement they travelled with returns only its own, and each ran in order", async () => {
    const result = await database.db.transaction().execute(async (tx) => {
      await sql`${sendWithNext}select pg_advisory_xact_lock(${42})`.execute(tx);
      await sql`${sendWithNext}create temporary table held_order (n int) on commit drop`.execute(tx);
      await sql`${sendWithNext}insert into held_order values (${1}), (${2})`.execute(tx);
      return (await sql<{ n: number; locks: string }>`select n, (select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())::text as locks
        from held_order order by n`.execute(tx)).rows;
    });
    expect(result).toEqual([{ n: 1, locks: "1" }, { n: 2, locks: "1" }]);
  });

  test("When code catches a failed statement's error and commits, then the commit fails: the work was rolled back, not done", async () => {
    const id = "00000000-0000-4000-8000-00000000000e";
    await sql`insert into inbox (consumer, event_id) values (${"swallowed"}, ${id}::uuid)`.execute(database.db);
    await expect(
      database.db.transaction().execute(async (tx) => {
        await sql`insert into inbox (consumer, event_id) values (${"swallowed"}, gen_random_uuid())`.execute(tx);
        await sql`insert into inbox (consumer, event_id) values (${"swallowed"}, ${id}::uuid)`.execute(tx).catch(() => undefined);
      }),
    ).rejects.toThrow(/rolled back, not committed/);
    const rows = await sql<{ n: string }>`select count(*) as n from inbox where consumer = 'swallowed'`.execute(database.db);
    expect(Number(rows.rows[0].n)).toBe(1);
    // the connection goes on working
    expect((await sql<{ n: number }>`select ${5}::int as n`.execute(database.db)).rows[0].n).toBe(5);
  });

  test("When a statement marked to travel with the next one runs outside a transaction, then it is sent at once", async () => {
    const id = "00000000-0000-4000-8000-00000000000c";
    await sql`${sendWithNext}insert into inbox (consumer, event_id) values (${"at-once"}, ${id}::uuid)`.execute(database.db);
    // read through another connection: the row is committed already
    const other = await openDatabase({ url: database.url });
    try {
      const rows = await sql<{ n: string }>`select count(*) as n from inbox where event_id = ${id}::uuid`.execute(other.db);
      expect(Number(rows.rows[0].n)).toBe(1);
    } finally {
      await other.close();
    }
  });
});
