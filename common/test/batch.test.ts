import { randomUUID } from "node:crypto";
import net from "node:net";
import { sql } from "kysely";
import type { PoolClient } from "pg";
import { queryConfig, runStatement } from "../src/db/driver";
import { openTestDatabase, workOn } from "../src/testing";
import type { Database } from "../src";

/** The system calls that write to sockets while `fn` runs (the test's one connection is the only socket writing). */
async function socketWrites(fn: () => Promise<unknown>): Promise<number> {
  const writev = jest.spyOn(net.Socket.prototype, "_writev");
  const write = jest.spyOn(net.Socket.prototype, "_write");
  try {
    await fn();
    return writev.mock.calls.length + write.mock.calls.length;
  } finally {
    writev.mockRestore();
    write.mockRestore();
  }
}

describe("statements sent in batches", () => {
  let database: Database;
  let client: PoolClient;
  beforeEach(async () => {
    database = await openTestDatabase(undefined, { poolSize: 1 });
    client = await database.pool.connect();
    await runStatement(client, { text: "select 1" }); // the connection is open and its pid asked
  });
  afterEach(async () => {
    client.release();
    await database.close();
  });

  const run = (text: string, ...values: unknown[]) => runStatement(client, queryConfig(text, values));

  test("When several statements are issued in one turn without waiting, then they leave in one system call and each gets its own answer", async () => {
    let answers: Array<{ rows: Array<{ n: number }> }> = [];
    const writes = await socketWrites(async () => {
      answers = await Promise.all([1, 2, 3].map((n) => run("select $1::int as n", n)));
    });
    expect(answers.map((a) => a.rows[0].n)).toEqual([1, 2, 3]);
    expect(writes).toBe(1);
  });

  test("When a statement fails in a batch, then those before it are answered, it gets the server's error, those after it say they were not run, and the connection goes on", async () => {
    const [before, failing, after] = await Promise.allSettled([
      run("select $1::int as n", 1),
      run("select 1 / $1::int as n", 0),
      run("select $1::int + 2 as n", 1),
    ]);
    expect(before).toMatchObject({ status: "fulfilled", value: { rows: [{ n: 1 }] } });
    expect(failing).toMatchObject({ status: "rejected", reason: { code: "22012" } });
    expect(after).toMatchObject({ status: "rejected", reason: { cause: { code: "22012" } } });
    expect((after as PromiseRejectedResult).reason.message).toMatch(/^not run: a statement sent before it in the same batch failed/);

    // the failed statement was prepared before it failed, the one after it was never parsed:
    // both run on the same connection next time
    const again = await Promise.all([run("select 1 / $1::int as n", 1), run("select $1::int + 2 as n", 1)]);
    expect(again.map((a) => a.rows[0].n)).toEqual([1, 3]);
  });

  test("When a named statement's text is refused by the parser, then it fails the same way each time, not as a missing statement", async () => {
    for (let i = 0; i < 2; i++) {
      await expect(run("selec $1::int as n", 1)).rejects.toMatchObject({ code: "42601" });
    }
    expect((await run("select $1::int as n", 5)).rows).toEqual([{ n: 5 }]);
  });

  test("When a value cannot be turned into a parameter, then its statement fails alone and nothing of it is sent", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const [bad, good] = await Promise.allSettled([run("select $1::jsonb as j", cyclic), run("select $1::int as n", 7)]);
    expect(bad).toMatchObject({ status: "rejected", reason: { name: "TypeError" } });
    expect(good).toMatchObject({ status: "fulfilled", value: { rows: [{ n: 7 }] } });
  });

  test("When a text without parameters holds several statements, then it runs in its place among the batched ones", async () => {
    const order = await Promise.all([
      run("select $1::int as n", 1),
      runStatement(client, { text: "create temporary table seen (n int); insert into seen values (2)" }),
      run("select n from seen where n = $1::int", 2),
    ]);
    expect(order[0].rows).toEqual([{ n: 1 }]);
    expect(order[2].rows).toEqual([{ n: 2 }]);
  });
});

test("When a listener's unit of work sends its statements without reading, then begin, the inbox row, its statements and the commit leave in one write", async () => {
  const database = await openTestDatabase(undefined, { poolSize: 1 });
  const work = workOn(database);
  try {
    await work(async () => undefined); // the connection is open and the pid asked
    const eventId = randomUUID();

    const writes = await socketWrites(() =>
      work(
        async (uow) => {
          uow.send(sql`select pg_advisory_xact_lock(42)`);
          uow.send(sql`select ${eventId}::uuid as checked`);
        },
        { inbox: { consumer: "batch-test", eventId } },
      ),
    );

    expect(writes).toBe(1);
    const seen = await sql<{ n: string }>`select count(*) as n from inbox where event_id = ${eventId}`.execute(database.db);
    expect(Number(seen.rows[0].n)).toBe(1);
  } finally {
    await database.close();
  }
});
