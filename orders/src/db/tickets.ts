import { sql, type EventData, type Queryable } from "@ticketforge/common";
import type { OrdersWork } from "./tables";

/** The replica of a ticket, as the tickets service last described it. */
export interface TicketRow {
  id: string;
  title: string;
  price_cents: number;
  user_id: string;
  version: number;
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
 * Applies a ticket.updated to the replica, its holder (orderId) included, through the server-side
 * apply_ticket_update (orders migrations 003 and 005). Nobody needs its answer, so it is sent and travels with the commit; when the
 * update is not the replica's next version, it fails with TF001 (already applied) or TF002 (came
 * early, or the ticket is not known yet), which the consumer turns into AlreadyApplied /
 * RetryLater (versionOutcome).
 */
export function applyTicketUpdate(uow: OrdersWork, t: EventData<"ticket.updated">): void {
  uow.send(
    sql`select apply_ticket_update(${t.id}::uuid, ${t.title}, ${t.price}::integer, ${t.userId}, ${t.orderId}::text, ${t.version}::integer)`,
  );
}
