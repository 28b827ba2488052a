import { sql } from "kysely";
import { AlreadyApplied, RetryLater, openDatabase, versionOutcome, type Database } from "../src";
import { openTestDatabase, openTransaction, workOn } from "../src/testing";

let database: Database;
beforeEach(async () => {
  database = await openTestDatabase();
});
afterEach(() => database.close());

/** Applies `version` of order `id` in a transaction of its own; the outcome as the consumer sees it. */
async function apply(id: string, version: number, on = database): Promise<"applied" | unknown> {
  try {
    await workOn(on)(async (uow) => uow.applyNextVersion("order", id, version));
    return "applied";
  } catch (err) {
    return versionOutcome(err);
  }
}

const versionOf = async (id: string) =>
  (await sql<{ version: number }>`select version from entity_versions where entity = 'order' and id = ${id}`.execute(database.db)).rows[0]
    ?.version;

describe("uow.applyNextVersion", () => {
  test("When versions come in order, then each is recorded; an old one is already applied and a newer one came early", async () => {
    expect(await apply("o1", 0)).toBe("applied");
    expect(await apply("o1", 1)).toBe("applied");
    const old = await apply("o1", 1);
    expect(old).toBeInstanceOf(AlreadyApplied);
    expect((old as Error).message).toBe("order o1 version 1 already applied (have 1)");
    const early = await apply("o1", 3);
    expect(early).toBeInstanceOf(RetryLater);
    expect((early as Error).message).toBe("order o1 version 3 came early (have 1)");
    expect(await apply("o2", 1)).toBeInstanceOf(RetryLater);
    expect(await versionOf("o1")).toBe(1);
    expect(await versionOf("o2")).toBeUndefined();
  });

  test("When the version is not the next one, then the work fails and nothing of it stays", async () => {
    await apply("o3", 0);
    await sql`create table effects (note text)`.execute(database.db);
    const outcome = await workOn(database)(async (uow) => {
      uow.applyNextVersion("order", "o3", 0);
      await sql`insert into effects values (${"after the check"})`.execute(uow.db);
      return "committed";
    }).catch(versionOutcome);
    expect(outcome).toBeInstanceOf(AlreadyApplied);
    expect((await sql`select * from effects`.execute(database.db)).rows).toEqual([]);
  });

  test("When two transactions apply the same first version at once, then exactly one does; the other waits for it and finds it applied", async () => {
    const other = await openDatabase({ url: database.url });
    try {
      // version 0 is written and held, uncommitted
      const first = await openTransaction(workOn(database), (uow) => uow.applyNextVersion("order", "o4", 0));
      const second = apply("o4", 0, other);
      await new Promise((r) => setTimeout(r, 200));
      await first.commit();
      expect(await second).toBeInstanceOf(AlreadyApplied);
      // and the same for the next version, where the row exists and is locked
      const next = await Promise.all([apply("o4", 1), apply("o4", 1, other)]);
      expect(next.filter((o) => o === "applied")).toHaveLength(1);
      expect(next.filter((o) => o instanceof AlreadyApplied)).toHaveLength(1);
      expect(await versionOf("o4")).toBe(1);
    } finally {
      await other.close();
    }
  });
});
