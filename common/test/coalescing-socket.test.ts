import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { CoalescingSocket } from "../src/db/coalescing-socket";
import { openTestDatabase, workOn } from "../src/testing";

describe("the socket under the pool's connections", () => {
  test("When several statements are issued in one turn without waiting, then they leave in one system call and each gets its own answer", async () => {
    const database = await openTestDatabase(undefined, { poolSize: 1 });
    const client = await database.pool.connect();
    const writev = jest.spyOn(CoalescingSocket.prototype, "_writev");
    const write = jest.spyOn(CoalescingSocket.prototype, "_write");
    try {
      await client.query("select 1"); // the connection is open and the pid asked
      writev.mockClear();
      write.mockClear();

      const answers = await Promise.all([1, 2, 3].map((n) => client.query({ text: "select $1::int as n", values: [n] })));

      expect(answers.map((a) => a.rows[0].n)).toEqual([1, 2, 3]);
      expect(write).not.toHaveBeenCalled();
      expect(writev).toHaveBeenCalledTimes(1);
      // each statement is several protocol messages (parse, bind, describe, execute, sync)
      expect(writev.mock.calls[0][0].length).toBeGreaterThanOrEqual(3);
    } finally {
      writev.mockRestore();
      write.mockRestore();
      client.release();
      await database.close();
    }
  });

  test("When a listener's unit of work sends its statements without reading, then begin, the inbox row, its statements and the commit leave in one write", async () => {
    const database = await openTestDatabase(undefined, { poolSize: 1 });
    const work = workOn(database);
    const writev = jest.spyOn(CoalescingSocket.prototype, "_writev");
    const write = jest.spyOn(CoalescingSocket.prototype, "_write");
    try {
      await work(async () => undefined); // the connection is open and the pid asked
      writev.mockClear();
      write.mockClear();
      const eventId = randomUUID();

      await work(
        async (uow) => {
          uow.send(sql`select pg_advisory_xact_lock(42)`);
          uow.send(sql`select ${eventId}::uuid as checked`);
        },
        { inbox: { consumer: "coalescing-test", eventId } },
      );

      expect(write).not.toHaveBeenCalled();
      expect(writev).toHaveBeenCalledTimes(1);
      const seen = await sql<{ n: string }>`select count(*) as n from inbox where event_id = ${eventId}`.execute(database.db);
      expect(Number(seen.rows[0].n)).toBe(1);
    } finally {
      writev.mockRestore();
      write.mockRestore();
      await database.close();
    }
  });

  test("When a statement fails among statements sent together, then only it fails and the connection goes on", async () => {
    const database = await openTestDatabase(undefined, { poolSize: 1 });
    try {
      const client = await database.pool.connect();
      try {
        const [a, b, c] = await Promise.allSettled([
          client.query("select 1 as n"),
          client.query("select 1/0 as n"),
          client.query("select 3 as n"),
        ]);
        expect(a).toMatchObject({ status: "fulfilled", value: { rows: [{ n: 1 }] } });
        expect(b).toMatchObject({ status: "rejected", reason: { code: "22012" } });
        expect(c).toMatchObject({ status: "fulfilled", value: { rows: [{ n: 3 }] } });
        expect((await client.query("select 4 as n")).rows).toEqual([{ n: 4 }]);
      } finally {
        client.release();
      }
    } finally {
      await database.close();
    }
  });
});
