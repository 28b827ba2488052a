import { isUuid, sql, type Queryable, type Tx } from "@ticketforge/common";

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
export async function lockOrder(tx: Tx, id: string): Promise<Order | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<Order>`select * from orders where id = ${id} for update`.execute(tx);
  return r.rows[0];
}

/** Inserts the copy of a new order; false when one with its id is already here. */
export async function insertOrder(
  tx: Tx,
  order: { id: string; userId: string; priceCents: number; status: OrderStatus; version: number },
): Promise<boolean> {
  const r = await sql`insert into orders (id, user_id, price_cents, status, version)
    values (${order.id}, ${order.userId}, ${order.priceCents}, ${order.status}, ${order.version})
    on conflict (id) do nothing returning id`.execute(tx);
  return r.rows.length > 0;
}

export async function setOrderStatus(tx: Tx, id: string, status: OrderStatus, version: number): Promise<void> {
  await sql`update orders set status = ${status}, version = ${version} where id = ${id}`.execute(tx);
}

/** Moves to the next charge attempt, unless a concurrent request already did. */
export async function nextChargeAttempt(db: Queryable, id: string, after: number): Promise<void> {
  await sql`update orders set charge_attempt = ${after + 1} where id = ${id} and charge_attempt = ${after}`.execute(db);
}
