import { sql, type Queryable } from "@ticketforge/common";

export interface Payment {
  id: string;
  order_id: string;
  amount_cents: number;
  provider: string;
  provider_ref: string;
  status: "succeeded" | "refunded";
  refund_ref: string | null;
  refund_due_at: Date | null;
}

const columns = sql`id, order_id, amount_cents, provider, provider_ref, status, refund_ref, refund_due_at`;

/** Fails with a unique violation on payments_order_id_unique when the order already has a payment. */
export async function insertPayment(
  db: Queryable,
  p: { orderId: string; amountCents: number; provider: string; providerRef: string; refundDue: boolean },
): Promise<Payment> {
  const r = await sql<Payment>`insert into payments (order_id, amount_cents, provider, provider_ref, status, refund_due_at)
    values (${p.orderId}, ${p.amountCents}, ${p.provider}, ${p.providerRef}, 'succeeded', ${p.refundDue ? sql`now()` : null})
    returning ${columns}`.execute(db);
  return r.rows[0];
}

export async function findPaymentOfOrder(db: Queryable, orderId: string): Promise<Payment | undefined> {
  const r = await sql<Payment>`select ${columns} from payments where order_id = ${orderId}`.execute(db);
  return r.rows[0];
}

/** Queues the order's charge, if any, for the refunder; returns the payment concerned. */
export async function scheduleRefund(db: Queryable, orderId: string): Promise<Payment | undefined> {
  const r = await sql<Payment>`update payments set refund_due_at = now()
    where order_id = ${orderId} and status = 'succeeded' and refund_due_at is null
    returning ${columns}`.execute(db);
  return r.rows[0];
}

export async function lockPayment(db: Queryable, id: string): Promise<Payment | undefined> {
  const r = await sql<Payment>`select ${columns} from payments where id = ${id} for update`.execute(db);
  return r.rows[0];
}

/** The next refund that is due, locked; one that another replica is refunding now is skipped. */
export async function lockNextDueRefund(db: Queryable): Promise<Payment | undefined> {
  const r = await sql<Payment>`select ${columns} from payments
    where status = 'succeeded' and refund_due_at <= now()
    order by refund_due_at limit 1
    for update skip locked`.execute(db);
  return r.rows[0];
}

export async function markRefunded(db: Queryable, id: string, refundRef: string): Promise<void> {
  await sql`update payments set status = 'refunded', refund_ref = ${refundRef}, refunded_at = now(), refund_due_at = null
    where id = ${id}`.execute(db);
}

/**
 * Counts a failed refund and postpones the next try: the delay doubles with each failure, up to
 * an hour, so a refund the provider keeps refusing is neither lost nor hammered. Returns the
 * number of failures so far.
 */
export async function recordRefundFailure(db: Queryable, id: string, error: string, baseDelayMs: number): Promise<number> {
  const r = await sql<{ refund_failures: number }>`update payments set
      refund_failures = refund_failures + 1,
      last_refund_error = ${error.slice(0, 2_000)},
      refund_due_at = now() + make_interval(secs => least(${baseDelayMs / 1000} * power(2, refund_failures), 3600))
    where id = ${id} and status = 'succeeded'
    returning refund_failures`.execute(db);
  return r.rows[0]?.refund_failures ?? 0;
}
