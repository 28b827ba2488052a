import { isUuid, sql, type Queryable } from "@ticketforge/common";
import type { PaymentsWork } from "./tables";

export type OrderStatus = "created" | "awaiting:payment" | "complete" | "cancelled";

export interface Order {
  id: string;
  user_id: string;
  price_cents: number;
  status: OrderStatus;
  version: number;
  charge_attempt: number;
}

/** Undefined for an unknown order, and for a malformed id (a 404, not a database error). */
export async function findOrder(db: Queryable, id: string): Promise<Order | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<Order>`select * from orders where id = ${id}`.execute(db);
  return r.rows[0];
}

/** Reads an order and holds it until the transaction ends, so its status cannot change meanwhile. */
export async function lockOrder(db: Queryable, id: string): Promise<Order | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<Order>`select * from orders where id = ${id} for update`.execute(db);
  return r.rows[0];
}

/**
 * Records the copy of a new order through the server-side record_order (payments migration 003).
 * Nobody needs its answer, so it is sent and travels with the commit; a copy already here fails
 * it with TF001 (already applied), a later version of an
 * order not known yet with TF002 (came early), which the consumer turns into AlreadyApplied /
 * RetryLater (versionOutcome).
 */
export function recordOrder(
  uow: PaymentsWork,
  order: { id: string; userId: string; priceCents: number; status: OrderStatus; version: number },
): void {
  uow.send(
    sql`select record_order(${order.id}::uuid, ${order.userId}, ${order.priceCents}::integer, ${order.status}, ${order.version}::integer)`,
  );
}

export async function setOrderStatus(db: Queryable, id: string, status: OrderStatus, version: number): Promise<void> {
  await sql`update orders set status = ${status}, version = ${version} where id = ${id}`.execute(db);
}

/** Moves to the next charge attempt, unless a concurrent request already did. */
export async function nextChargeAttempt(db: Queryable, id: string, after: number): Promise<void> {
  await sql`update orders set charge_attempt = ${after + 1} where id = ${id} and charge_attempt = ${after}`.execute(db);
}
