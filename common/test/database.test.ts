import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { DatabaseLockedError, commonMigrationsDir, migrate, openDatabase, statements } from "../src";
import { openTestDatabase } from "../src/testing";

describe("embedded database lock", () => {
  test("When a second opener takes the same PGlite directory, then it is refused with a clear message; after close it opens", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-db-"));
    const first = await openDatabase({ dataDir: dir });
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(DatabaseLockedError);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/already open by process \d+/);
    await sql`create table kept (n int)`.execute(first.db);
    await sql`insert into kept values (7)`.execute(first.db);
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    expect((await sql<{ n: number }>`select n from kept`.execute(second.db)).rows).toEqual([{ n: 7 }]);
    await second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("When the lock was left by a process that died, then it is taken over", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-db-"));
    fs.writeFileSync(path.join(dir, "lock"), "999999999");
    const db = await openDatabase({ dataDir: dir });
    expect(fs.readFileSync(path.join(dir, "lock"), "utf8")).toBe(String(process.pid));
    await db.close();
    expect(fs.existsSync(path.join(dir, "lock"))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("migrations", () => {
  test("When migrations run twice, then each file is applied once and recorded", async () => {
    const database = await openTestDatabase();
    try {
      expect(await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }])).toEqual(["common/001_outbox_inbox.sql", "common/002_rate_limits.sql"]);
      expect(await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }])).toEqual([]);
      const rows = await sql<{ name: string }>`select name from schema_migrations`.execute(database.db);
      expect(rows.rows.map((r) => r.name)).toEqual(["common/001_outbox_inbox.sql", "common/002_rate_limits.sql"]);
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
