import { randomUUID } from "node:crypto";
import { openDatabase, sql, versionOutcome, type Database } from "@ticketforge/common";
import { openTestDatabase, openTransaction, workOn } from "@ticketforge/common/testing";
import { orders } from "../src/service";
import { applyTicketUpdate } from "../src/db/tickets";
import type { OrdersTables } from "../src/db/tables";

let database: Database<OrdersTables>;
beforeEach(async () => {
  database = (await openTestDatabase(orders)) as Database<OrdersTables>;
});
afterEach(() => database.close());

const update = (id: string, version: number, orderId: string | null = null) => ({
  id,
  title: `Title ${version}`,
  price: 1000 + version,
  userId: "seller",
  orderId,
  status: orderId === null ? ("available" as const) : ("reserved" as const),
  version,
});

/** Applies `version` in a transaction of its own; the outcome as the consumer sees it. */
async function apply(id: string, version: number, on = database, orderId: string | null = null): Promise<unknown> {
  try {
    await workOn(on)(async (uow) => applyTicketUpdate(uow, update(id, version, orderId)));
    return "applied";
  } catch (err) {
    return versionOutcome(err);
  }
}

const replica = async (id: string) =>
  (await sql<{ title: string; version: number }>`select title, version from tickets where id = ${id}`.execute(database.db)).rows[0];

const holderOf = async (id: string) =>
  (await sql<{ order_id: string | null }>`select order_id from tickets where id = ${id}`.execute(database.db)).rows[0].order_id;

const newTicket = async () => {
  const id = randomUUID();
  await sql`insert into tickets (id, title, price_cents, user_id, version) values (${id}, 'Title 0', 1000, 'seller', 0)`.execute(
    database.db,
  );
  return id;
};

describe("the order holding a ticket, as tickets says (docs/design.md §4 rule 6)", () => {
  test("When updates reserve, release and sell the ticket, then the replica names the order tickets holds it for, and none while it is available", async () => {
    const id = await newTicket();
    const [first, second] = [randomUUID(), randomUUID()];
    expect(await apply(id, 1, database, first)).toBe("applied");
    expect(await holderOf(id)).toBe(first);
    expect(await apply(id, 2, database, null)).toBe("applied");
    expect(await holderOf(id)).toBeNull();
    expect(await apply(id, 3, database, second)).toBe("applied");
    expect(await holderOf(id)).toBe(second);
  });

  test("When a replica of the previous release applies an update without the holder (during a rollout), then the holder is the ticket's live order here, as before", async () => {
    const id = await newTicket();
    const order = await sql<{ id: string }>`insert into orders (user_id, ticket_id, status, expires_at, price_cents)
      values ('buyer', ${id}, 'created', now() + interval '15 minutes', 1000) returning id`.execute(database.db);
    await sql`select apply_ticket_update(${id}::uuid, 'Title 1', 1001, 'seller', 1)`.execute(database.db);
    expect(await replica(id)).toEqual({ title: "Title 1", version: 1 });
    expect(await holderOf(id)).toBe(order.rows[0].id);
  });
});

describe("the tickets replica's version check (apply_ticket_update)", () => {
  test("When updates come in order, early, late or before their ticket, then only the next version applies, and the others are told apart", async () => {
    const id = randomUUID();
    expect(await apply(id, 1)).toMatchObject({ name: "RetryLater", message: `ticket ${id} not known yet` });
    await sql`insert into tickets (id, title, price_cents, user_id, version) values (${id}, 'Title 0', 1000, 'seller', 0)`.execute(
      database.db,
    );
    expect(await apply(id, 2)).toMatchObject({ name: "RetryLater", message: `ticket ${id} version 2 came early (have 0)` });
    expect(await apply(id, 1)).toBe("applied");
    expect(await apply(id, 1)).toMatchObject({ name: "AlreadyApplied", message: `ticket ${id} version 1 already applied (have 1)` });
    expect(await apply(id, 2)).toBe("applied");
    expect(await replica(id)).toEqual({ title: "Title 2", version: 2 });
  });

  test("When the version before lands while an update waits for the ticket's lock, then the update applies right after it", async () => {
    const id = randomUUID();
    await sql`insert into tickets (id, title, price_cents, user_id, version) values (${id}, 'Title 0', 1000, 'seller', 0)`.execute(
      database.db,
    );
    const other = await openDatabase<OrdersTables>({ url: database.url });
    try {
      // version 1 is applied and holds the row, uncommitted
      const first = await openTransaction(workOn(database), (uow) => applyTicketUpdate(uow, update(id, 1)));
      // version 2 finds the replica at version 0, so waits for the lock, then sees version 1
      const second = apply(id, 2, other);
      await new Promise((r) => setTimeout(r, 200));
      await first.commit();
      expect(await second).toBe("applied");
      expect(await replica(id)).toEqual({ title: "Title 2", version: 2 });
    } finally {
      await other.close();
    }
  });
});
