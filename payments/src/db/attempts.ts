import { sql, type Queryable } from "@ticketforge/common";

export type AttemptStatus = "pending" | "charged" | "declined" | "invalid" | "abandoned";

export interface Attempt {
  idempotency_key: string;
  order_id: string;
  user_id: string;
  amount_cents: number;
  status: AttemptStatus;
  /** When the charge was last asked for (set again when a key becomes pending again). */
  requested_at: Date;
}

/**
 * Records that a charge is about to be asked for, and commits that before the provider is
 * called. A key tried again after an invalid token (which charged nothing) is pending again.
 */
export async function beginAttempt(db: Queryable, a: { key: string; orderId: string; userId: string; amountCents: number }): Promise<void> {
  await sql`insert into payment_attempts (idempotency_key, order_id, user_id, amount_cents, status)
    values (${a.key}, ${a.orderId}, ${a.userId}, ${a.amountCents}, 'pending')
    on conflict (idempotency_key) do update set status = 'pending', updated_at = now(), requested_at = now()
    where payment_attempts.status in ('invalid', 'abandoned')`.execute(db);
}

export async function settleAttempt(
  db: Queryable,
  key: string,
  status: Exclude<AttemptStatus, "pending">,
  chargeRef: string | null = null,
) {
  await sql`update payment_attempts set status = ${status}, charge_ref = coalesce(${chargeRef}, charge_ref), updated_at = now()
    where idempotency_key = ${key}`.execute(db);
}

/** The oldest attempt left pending for longer than `olderThanMs`, locked; one another replica holds is skipped. */
export async function lockStalePendingAttempt(db: Queryable, olderThanMs: number): Promise<Attempt | undefined> {
  const r = await sql<Attempt>`select idempotency_key, order_id, user_id, amount_cents, status, requested_at from payment_attempts
    where status = 'pending' and updated_at < now() - make_interval(secs => ${olderThanMs / 1000})
    order by updated_at limit 1
    for update skip locked`.execute(db);
  return r.rows[0];
}

/** Moves a pending attempt to the back of the reconciler's queue (the provider could not tell yet). */
export async function touchAttempt(db: Queryable, key: string) {
  await sql`update payment_attempts set updated_at = now() where idempotency_key = ${key} and status = 'pending'`.execute(db);
}
