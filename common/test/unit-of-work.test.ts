import { sql } from "kysely";
import { AlreadyApplied, openDatabase, RetryLater, versionOutcome, type Database, type Work } from "../src";
import { openTestDatabase, workOn } from "../src/testing";

let database: Database;
let published: Array<{ subject: string; body: string }>;
let work: Work<unknown>;
beforeEach(async () => {
  database = await openTestDatabase();
  published = [];
  work = workOn(database, async (subject, body) => void published.push({ subject, body: new TextDecoder().decode(body) }));
});
afterEach(() => database.close());

const inboxRows = async (consumer: string) =>
  (await sql<{ n: number }>`select count(*)::int as n from inbox where consumer = ${consumer}`.execute(database.db)).rows[0].n;
const outboxRows = async () => (await sql<{ n: number }>`select count(*)::int as n from outbox`.execute(database.db)).rows[0].n;
const sentInbox = (consumer: string, id = "00000000-0000-4000-8000-000000000001") =>
  sql`insert into inbox (consumer, event_id) values (${consumer}, ${id}::uuid)`;
const afterTurn = () => new Promise((r) => setImmediate(r));

describe("a unit of work", () => {
  test("When it reads, sends and publishes, then everything commits together and the event leaves after the commit", async () => {
    const now = await work(async (uow) => {
      uow.send(sentInbox("together"));
      uow.publish("expiration.complete", { orderId: "00000000-0000-4000-8000-00000000000a" });
      const first = await sql<{ at: string }>`select now()::text as at`.execute(uow.db);
      await sql`select pg_sleep(0.02)`.execute(uow.db);
      const last = await sql<{ at: string }>`select now()::text as at`.execute(uow.db);
      expect(published).toEqual([]); // nothing leaves before the commit
      return [first.rows[0].at, last.rows[0].at];
    });
    // now() is the transaction's start: one transaction from the first statement to the last
    expect(now[0]).toBe(now[1]);
    expect(await inboxRows("together")).toBe(1);
    expect(await outboxRows()).toBe(1);
    await afterTurn();
    expect(published).toEqual([
      { subject: "expiration.complete", body: expect.stringContaining('"orderId":"00000000-0000-4000-8000-00000000000a"') },
    ]);
  });

  test("When a sent statement fails, then the work fails with that statement's own error, naming where it was sent, and nothing of it stays", async () => {
    await work(async (uow) => uow.send(sentInbox("dup")));
    const failed = await work(async (uow) => {
      uow.publish("expiration.complete", { orderId: "00000000-0000-4000-8000-00000000000b" });
      uow.send(sentInbox("dup")); // breaks the inbox key
      // the statement after it is refused as part of an aborted transaction: not the error reported
      await sql`select 1`.execute(uow.db);
    }).catch((err: Error & { code?: string }) => err);
    expect(failed).toMatchObject({ code: "23505", message: expect.stringContaining("inbox_pkey") });
    expect((failed as Error).stack).toMatch(/the statement was sent[\s\S]*unit-of-work\.test\.ts/);
    expect(await outboxRows()).toBe(0);
    await afterTurn();
    expect(published).toEqual([]);
  });

  test("When the last statements are only sent, then they are settled with the commit, and a failure among them still fails the work", async () => {
    await expect(
      work(async (uow) => {
        uow.send(sentInbox("last"));
        uow.send(sql`select 1 / 0`);
      }),
    ).rejects.toMatchObject({ code: "22012" });
    expect(await inboxRows("last")).toBe(0);
    // and the connection is clean for the next work
    await work(async (uow) => uow.send(sentInbox("last")));
    expect(await inboxRows("last")).toBe(1);
  });

  test("When sent statements create what later ones use, then they run in the order they were sent", async () => {
    const rows = await work(async (uow) => {
      uow.send(sql`create temporary table sent_order (n int) on commit drop`);
      uow.send(sql`insert into sent_order values (${1}), (${2})`);
      return (await sql<{ n: number }>`select n from sent_order order by n`.execute(uow.db)).rows;
    });
    expect(rows).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test("When code catches a failed statement's error and goes on, then the commit fails: the work was rolled back, not done", async () => {
    await expect(
      work(async (uow) => {
        uow.send(sentInbox("caught"));
        await sql`select * from no_such_table`.execute(uow.db).catch(() => undefined);
      }),
    ).rejects.toThrow(/rolled back, not committed/);
    expect(await inboxRows("caught")).toBe(0);
  });

  test("When the work throws, then nothing of it stays, its hooks do not run and its log lines are dropped", async () => {
    let hooked = false;
    await expect(
      work(async (uow) => {
        uow.send(sentInbox("thrown"));
        uow.publish("expiration.complete", { orderId: "00000000-0000-4000-8000-00000000000c" });
        uow.afterCommit(() => (hooked = true));
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await inboxRows("thrown")).toBe(0);
    expect(await outboxRows()).toBe(0);
    expect(hooked).toBe(false);
  });

  test("When its signal fires, then no further statement is sent and the running one is cancelled on the server", async () => {
    const timer = new AbortController();
    setTimeout(() => timer.abort(new Error("given up")), 200);
    let sentAfter: unknown;
    const started = Date.now();
    const failed = await work(
      async (uow) => {
        await sql`select pg_sleep(30)`.execute(uow.db).catch(() => undefined);
        try {
          uow.send(sentInbox("aborted"));
        } catch (err) {
          sentAfter = err;
        }
      },
      { signal: timer.signal },
    ).catch((err: Error) => err);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failed).toMatchObject({ message: "given up" });
    expect(sentAfter).toMatchObject({ message: "given up" });
    expect(await inboxRows("aborted")).toBe(0);
  });

  test("When the work given up holds the pool's last connection, then its statement is still cancelled and the connection comes back", async () => {
    const single = await openDatabase({ url: database.url, poolSize: 1 });
    try {
      const timer = new AbortController();
      setTimeout(() => timer.abort(new Error("given up")), 200);
      const started = Date.now();
      const failed = await workOn(single)(async (uow) => void (await sql`select pg_sleep(30)`.execute(uow.db)), {
        signal: timer.signal,
      }).catch((err: Error) => err);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(failed).toMatchObject({ message: "given up" });
      // the one connection is free again for the next work
      expect(await workOn(single)(async (uow) => (await sql<{ n: number }>`select 1 as n`.execute(uow.db)).rows[0].n)).toBe(1);
    } finally {
      await single.close();
    }
  });

  test("When a version check is not the next one, then the work fails with AlreadyApplied or RetryLater and its effects are undone", async () => {
    const apply = (version: number) =>
      work(async (uow) => {
        uow.applyNextVersion("order", "o-1", version);
        uow.send(sentInbox(`v${version}`));
      }).then(
        () => "applied",
        (err) => versionOutcome(err),
      );
    expect(await apply(0)).toBe("applied");
    expect(await apply(2)).toBeInstanceOf(RetryLater);
    expect(await apply(0)).toBeInstanceOf(AlreadyApplied);
    expect(await apply(1)).toBe("applied");
    expect(await inboxRows("v2")).toBe(0);
  });

  test("When it commits, then its after-commit hooks run, once", async () => {
    const calls: string[] = [];
    await work(async (uow) => {
      uow.afterCommit(() => calls.push("hook"));
      uow.send(sentInbox("hooks"));
    });
    expect(calls).toEqual(["hook"]);
  });
});
