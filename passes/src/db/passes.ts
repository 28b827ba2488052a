import { sql, type Queryable } from "@ticketforge/common";
import type { PassStatus } from "./tables";

/** A pass with its ticket, as every route shows it. */
export interface PassRow {
  id: string;
  order_id: string;
  ticket_id: string;
  owner_id: string;
  status: PassStatus;
  title: string;
  seller_id: string;
}

const passColumns = sql`p.id, p.order_id, p.ticket_id, p.owner_id, p.status, t.title, t.seller_id`;

/**
 * Issues the buyer's pass of a completed order; undefined when the order has one already (a
 * redelivered order.completed): the partial unique index passes_one_per_order decides.
 */
export async function issuePass(
  db: Queryable,
  p: { orderId: string; ticketId: string; ownerId: string },
): Promise<{ id: string } | undefined> {
  const r = await sql<{ id: string }>`insert into passes (ticket_id, order_id, owner_id) values (${p.ticketId}, ${p.orderId}, ${p.ownerId})
    on conflict (order_id) where transferred_from is null do nothing returning id`.execute(db);
  return r.rows[0];
}

export async function findPass(db: Queryable, id: string): Promise<PassRow | undefined> {
  const r = await sql<PassRow>`select ${passColumns} from passes p join tickets t on t.id = p.ticket_id where p.id = ${id}`.execute(db);
  return r.rows[0];
}

export async function findPassesOf(db: Queryable, ownerId: string): Promise<PassRow[]> {
  const r = await sql<PassRow>`select ${passColumns} from passes p join tickets t on t.id = p.ticket_id
    where p.owner_id = ${ownerId} order by p.created_at desc, p.id desc`.execute(db);
  return r.rows;
}

/**
 * Revokes a valid pass of `ownerId` and issues its replacement to `toUserId`, in one statement:
 * of a transfer and a check-in (or two transfers) of one pass, exactly one moves it off `valid`.
 * Undefined when the pass was not valid (or not theirs) at that instant.
 */
export async function transferPass(db: Queryable, id: string, ownerId: string, toUserId: string): Promise<{ id: string } | undefined> {
  const r = await sql<{ id: string }>`with revoked as (
      update passes set status = 'transferred' where id = ${id} and owner_id = ${ownerId} and status = 'valid'
      returning id, ticket_id, order_id
    )
    insert into passes (ticket_id, order_id, owner_id, transferred_from)
    select ticket_id, order_id, ${toUserId}, id from revoked
    returning id`.execute(db);
  return r.rows[0];
}

/**
 * Admits a valid pass: marks it used and records who admitted it and when, in one statement;
 * undefined when it was not valid at that instant (used already, or transferred). Of twenty
 * scans of one pass at once exactly one gets a row: the update's row lock makes the others wait
 * and then find it used.
 */
export async function admitPass(
  db: Queryable,
  c: { passId: string; scanner: string; admittedAt: Date; offline: boolean },
): Promise<{ admitted_at: Date } | undefined> {
  const r = await sql<{ admitted_at: Date }>`with used as (
      update passes set status = 'used' where id = ${c.passId} and status = 'valid' returning id
    )
    insert into checkins (pass_id, scanner, admitted_at, offline)
    select id, ${c.scanner}, ${c.admittedAt.toISOString()}, ${c.offline} from used
    returning admitted_at`.execute(db);
  return r.rows[0];
}

export async function findCheckin(db: Queryable, passId: string): Promise<{ scanner: string; admitted_at: Date } | undefined> {
  const r = await sql<{ scanner: string; admitted_at: Date }>`select scanner, admitted_at from checkins where pass_id = ${passId}`.execute(
    db,
  );
  return r.rows[0];
}

export async function recordConflict(
  db: Queryable,
  c: { passId: string; scanner: string; scannedAt: Date; reason: string },
): Promise<void> {
  await sql`insert into checkin_conflicts (pass_id, scanner, scanned_at, reason)
    values (${c.passId}, ${c.scanner}, ${c.scannedAt.toISOString()}, ${c.reason})`.execute(db);
}

/** The passes of a seller's tickets that a scanner must refuse (transferred) or has seen enter (used). */
export async function doorListsOf(db: Queryable, sellerId: string): Promise<{ revoked: string[]; admitted: string[] }> {
  const r = await sql<{ id: string; status: PassStatus }>`select p.id, p.status from passes p join tickets t on t.id = p.ticket_id
    where t.seller_id = ${sellerId} and p.status <> 'valid'`.execute(db);
  return {
    revoked: r.rows.filter((p) => p.status === "transferred").map((p) => p.id),
    admitted: r.rows.filter((p) => p.status === "used").map((p) => p.id),
  };
}
