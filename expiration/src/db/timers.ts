import { sql, type Queryable } from "@ticketforge/common";
import type { ExpirationWork } from "./tables";

/** Starts an order's timer; a timer that already exists is left as it is. */
export function insertTimer(uow: ExpirationWork, orderId: string, expiresAt: string): void {
  // nobody reads the answer: it is sent, and travels with the commit
  uow.send(sql`insert into timers (order_id, expires_at) values (${orderId}, ${expiresAt}::timestamptz)
    on conflict (order_id) do nothing`);
}

/** Removes an order's timer; true when there was one. */
export async function deleteTimer(db: Queryable, orderId: string): Promise<boolean> {
  const r = await sql`delete from timers where order_id = ${orderId} returning order_id`.execute(db);
  return r.rows.length > 0;
}

/**
 * Locks up to `limit` due timers, earliest first, with how late each is (seconds past its
 * expiresAt). Rows another replica has locked are skipped, not waited for: that replica fires
 * them, so each timer fires once.
 */
export async function lockDueTimers(db: Queryable, limit: number): Promise<Array<{ orderId: string; lateSeconds: number }>> {
  const r = await sql<{ order_id: string; late: number }>`select order_id, extract(epoch from now() - expires_at)::float8 as late
    from timers where expires_at <= now() order by expires_at limit ${limit}
    for update skip locked`.execute(db);
  return r.rows.map((row) => ({ orderId: row.order_id, lateSeconds: Number(row.late) }));
}

/** Timers due now and not yet fired (a growing number means the worker is not keeping up). */
export async function countDueTimers(db: Queryable): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from timers where expires_at <= now()`.execute(db);
  return Number(r.rows[0].n);
}

export async function deleteTimers(db: Queryable, orderIds: string[]): Promise<void> {
  await sql`delete from timers where order_id = any(${orderIds}::text[])`.execute(db);
}

/** Milliseconds until the earliest timer is due (negative when one is overdue), by the database's clock. */
export async function msUntilNextTimer(db: Queryable): Promise<number | undefined> {
  const r = await sql<{ ms: number | null }>`
    select (extract(epoch from min(expires_at) - now()) * 1000)::float8 as ms from timers`.execute(db);
  return r.rows[0]?.ms ?? undefined;
}
