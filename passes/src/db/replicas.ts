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

/** Who ordered which ticket; an order is created once, so a repeat changes nothing. */
export function recordOrder(uow: PassesWork, o: EventData<"order.created">): void {
  uow.send(sql`insert into orders (id, buyer_id, ticket_id) values (${o.id}, ${o.userId}, ${o.ticket.id}) on conflict (id) do nothing`);
}

export async function findOrder(
  db: Queryable,
  id: string,
): Promise<{ buyer_id: string; ticket_id: string; title: string | null } | undefined> {
  const r = await sql<{ buyer_id: string; ticket_id: string; title: string | null }>`select o.buyer_id, o.ticket_id, t.title
    from orders o left join tickets t on t.id = o.ticket_id where o.id = ${id}`.execute(db);
  return r.rows[0];
}

/** A user as auth announced them; a repeat changes nothing. */
export function recordUser(uow: PassesWork, u: EventData<"user.registered">): void {
  uow.send(sql`insert into users (id, email) values (${u.id}, ${u.email.toLowerCase()}) on conflict (id) do nothing`);
}

export async function findUserIdByEmail(db: Queryable, email: string): Promise<string | undefined> {
  const r = await sql<{ id: string }>`select id from users where email = ${email.toLowerCase()}`.execute(db);
  return r.rows[0]?.id;
}
