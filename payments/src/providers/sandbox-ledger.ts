import { sql, type Queryable } from "@ticketforge/common";
import type { ChargeRequest } from "./provider";

export interface SandboxCharge extends ChargeRequest {
  id: string;
  refundedBy?: string;
}

/** The first outcome of an idempotency key: a charge or a decline. */
export type ChargeOutcome = { chargeId: string } | { declined: string };

/** Where the sandbox keeps what it did, as Stripe does on its side. */
export interface SandboxLedger {
  outcomeOf(idempotencyKey: string): Promise<ChargeOutcome | undefined>;
  /** Records the outcome of a key unless it has one; returns the one that stands (the first). */
  settle(request: ChargeRequest, outcome: ChargeOutcome): Promise<ChargeOutcome>;
  /** Refunds a charge as `refundId` under `idempotencyKey`; returns the refund that stands. */
  refund(chargeId: string, idempotencyKey: string, refundId: string): Promise<string>;
}

const noSuchCharge = (id: string) => new Error(`No such charge: '${id}'`);
const alreadyRefunded = (id: string) => new Error(`Charge ${id} has already been refunded`);

/** One process's ledger: forgotten on restart and invisible to other replicas (unit tests). */
export class MemoryLedger implements SandboxLedger {
  private readonly outcomes = new Map<string, ChargeOutcome>();
  private readonly charges = new Map<string, SandboxCharge>();
  private readonly refundsByKey = new Map<string, string>();

  async outcomeOf(key: string) {
    return this.outcomes.get(key);
  }

  async settle(request: ChargeRequest, outcome: ChargeOutcome) {
    const known = this.outcomes.get(request.idempotencyKey);
    if (known) return known;
    this.outcomes.set(request.idempotencyKey, outcome);
    if ("chargeId" in outcome) this.charges.set(outcome.chargeId, { ...request, id: outcome.chargeId });
    return outcome;
  }

  async refund(chargeId: string, key: string, refundId: string) {
    const known = this.refundsByKey.get(key);
    if (known) return known;
    const charge = this.charges.get(chargeId);
    if (!charge) throw noSuchCharge(chargeId);
    if (charge.refundedBy) throw alreadyRefunded(chargeId);
    charge.refundedBy = refundId;
    this.refundsByKey.set(key, refundId);
    return refundId;
  }
}

/** The service's ledger: the payments database, shared by every replica. */
export class DatabaseLedger implements SandboxLedger {
  constructor(private readonly db: Queryable) {}

  async outcomeOf(key: string): Promise<ChargeOutcome | undefined> {
    const r = await sql<{ charge_id: string | null; declined: string | null }>`
      select charge_id, declined from sandbox_charges where idempotency_key = ${key}`.execute(this.db);
    const row = r.rows[0];
    if (!row) return undefined;
    return row.charge_id ? { chargeId: row.charge_id } : { declined: row.declined ?? "declined" };
  }

  async settle(request: ChargeRequest, outcome: ChargeOutcome): Promise<ChargeOutcome> {
    // two replicas charging with the same key at once: the first insert wins, both answer with it
    await sql`insert into sandbox_charges (idempotency_key, charge_id, declined, amount_cents, currency, description)
      values (${request.idempotencyKey}, ${"chargeId" in outcome ? outcome.chargeId : null}, ${"declined" in outcome ? outcome.declined : null},
        ${request.amountCents}, ${request.currency}, ${request.description})
      on conflict (idempotency_key) do nothing`.execute(this.db);
    return (await this.outcomeOf(request.idempotencyKey))!;
  }

  async refund(chargeId: string, key: string, refundId: string): Promise<string> {
    const done = await sql<{ refund_id: string }>`update sandbox_charges set refund_id = ${refundId}, refund_key = ${key}
      where charge_id = ${chargeId} and refund_id is null returning refund_id`.execute(this.db);
    if (done.rows[0]) return done.rows[0].refund_id;
    const r = await sql<{ refund_id: string | null; refund_key: string | null }>`
      select refund_id, refund_key from sandbox_charges where charge_id = ${chargeId}`.execute(this.db);
    const row = r.rows[0];
    if (!row) throw noSuchCharge(chargeId);
    if (row.refund_key === key && row.refund_id) return row.refund_id;
    throw alreadyRefunded(chargeId);
  }
}
