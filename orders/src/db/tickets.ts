import { sql, type EventData, type Queryable } from "@ticketforge/common";

/** The replica of a ticket, as the tickets service last described it. */
export interface TicketRow {
  id: string;
  title: string;
  price_cents: number;
  user_id: string;
  version: number;
}

export async function findTicket(db: Queryable, id: string): Promise<TicketRow | undefined> {
  const r = await sql<TicketRow>`select id, title, price_cents, user_id, version from tickets where id = ${id}`.execute(db);
  return r.rows[0];
}

/** Locks the row so that two replicas applying events of one ticket take turns. */
export async function findTicketForUpdate(db: Queryable, id: string): Promise<TicketRow | undefined> {
  const r = await sql<TicketRow>`select id, title, price_cents, user_id, version from tickets where id = ${id} for update`.execute(db);
  return r.rows[0];
}

/** Returns false when another replica inserted the same ticket first. */
export async function insertTicket(db: Queryable, t: EventData<"ticket.created">): Promise<boolean> {
  const r = await sql`insert into tickets (id, title, price_cents, user_id, version)
    values (${t.id}, ${t.title}, ${t.price}, ${t.userId}, ${t.version})
    on conflict (id) do nothing returning id`.execute(db);
  return r.rows.length > 0;
}

/**
 * Applies the update when it carries the replica's next version, in one statement; false when it
 * does not (or the ticket is unknown): the caller then reads the replica to tell why.
 */
export async function applyTicketUpdate(db: Queryable, t: EventData<"ticket.updated">): Promise<boolean> {
  const r = await sql`update tickets set title = ${t.title}, price_cents = ${t.price}, user_id = ${t.userId}, version = ${t.version}
    where id = ${t.id} and version = ${t.version}::integer - 1 returning id`.execute(db);
  return r.rows.length > 0;
}
