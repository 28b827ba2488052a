import { sql, type EventData, type Queryable } from "@ticketforge/common";
import type { PassesWork } from "./tables";

/** Locks the ticket's row so that two replicas applying events of one ticket take turns. */
export async function findTicketVersionForUpdate(db: Queryable, id: string): Promise<number | undefined> {
  const r = await sql<{ version: number }>`select version from tickets where id = ${id} for update`.execute(db);
  return r.rows[0]?.version;
}

/** Returns false when another replica inserted the same ticket first. */
export async function insertTicket(db: Queryable, t: EventData<"ticket.created">): Promise<boolean> {
  const r = await sql`insert into tickets (id, title, seller_id, version) values (${t.id}, ${t.title}, ${t.userId}, ${t.version})
    on conflict (id) do nothing returning id`.execute(db);
  return r.rows.length > 0;
}

/** Applies a ticket.updated through the server-side apply_ticket_update (migration 001); sent, it travels with the commit. */
export function applyTicketUpdate(uow: PassesWork, t: EventData<"ticket.updated">): void {
  uow.send(sql`select apply_ticket_update(${t.id}::uuid, ${t.title}, ${t.userId}, ${t.version}::integer)`);
}

/**
 * The order a pass is issued for: its buyer and ticket, as order.completed names them. A repeat
 * changes nothing (an order is completed once; older messages' orders were recorded from order.created).
 */
export function recordOrder(uow: PassesWork, o: { id: string; buyerId: string; ticketId: string }): void {
  uow.send(sql`insert into orders (id, buyer_id, ticket_id) values (${o.id}, ${o.buyerId}, ${o.ticketId}) on conflict (id) do nothing`);
}

/** The buyer recorded from an order.created, for an order.completed published before it named the buyer. */
export async function findBuyer(db: Queryable, orderId: string): Promise<string | undefined> {
  const r = await sql<{ buyer_id: string }>`select buyer_id from orders where id = ${orderId}`.execute(db);
  return r.rows[0]?.buyer_id;
}

/** The ticket's title, once ticket.created has brought it. */
export async function findTicketTitle(db: Queryable, ticketId: string): Promise<string | undefined> {
  const r = await sql<{ title: string }>`select title from tickets where id = ${ticketId}`.execute(db);
  return r.rows[0]?.title;
}

/** A user as auth announced them; a repeat changes nothing. */
export function recordUser(uow: PassesWork, u: EventData<"user.registered">): void {
  uow.send(sql`insert into users (id, email) values (${u.id}, ${u.email.toLowerCase()}) on conflict (id) do nothing`);
}

export async function findUserIdByEmail(db: Queryable, email: string): Promise<string | undefined> {
  const r = await sql<{ id: string }>`select id from users where email = ${email.toLowerCase()}`.execute(db);
  return r.rows[0]?.id;
}
