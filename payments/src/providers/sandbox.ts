import { randomBytes } from "node:crypto";
import { InvalidPaymentTokenError, PaymentDeclinedError, type ChargeRequest, type PaymentProvider, type RefundRequest } from "./provider";

export interface SandboxCharge extends ChargeRequest {
  id: string;
  refundedBy?: string;
}

/** The test tokens Stripe documents, so that the same cards work with both providers. */
const declined = "tok_chargeDeclined";
const accepted = "tok_visa";

/**
 * The built-in provider: no network, no money. `tok_visa` is charged, `tok_chargeDeclined` is
 * declined with Stripe's message, any other token is invalid. Like Stripe, it remembers the first
 * outcome of each idempotency key (a charge or a decline) and answers every later call with that
 * key the same way. Its ledger lives in memory: a restart forgets it, as befits a sandbox.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = "sandbox";
  /** Every charge made, by id. */
  readonly charges = new Map<string, SandboxCharge>();
  private readonly chargeOutcomes = new Map<string, { chargeId: string } | { declined: string }>();
  private readonly refundsByKey = new Map<string, string>();

  async charge(request: ChargeRequest): Promise<{ id: string }> {
    const known = this.chargeOutcomes.get(request.idempotencyKey);
    if (known) {
      if ("declined" in known) throw new PaymentDeclinedError(known.declined);
      return { id: known.chargeId };
    }
    if (request.token === declined) {
      const reason = "Your card was declined.";
      this.chargeOutcomes.set(request.idempotencyKey, { declined: reason });
      throw new PaymentDeclinedError(reason);
    }
    // an unknown token is refused before anything happens, so it leaves no outcome behind (as with Stripe)
    if (request.token !== accepted) throw new InvalidPaymentTokenError(`No such token: '${request.token}'`);
    const id = `ch_sandbox_${randomBytes(12).toString("hex")}`;
    this.charges.set(id, { ...request, id });
    this.chargeOutcomes.set(request.idempotencyKey, { chargeId: id });
    return { id };
  }

  async refund(request: RefundRequest): Promise<{ id: string }> {
    const known = this.refundsByKey.get(request.idempotencyKey);
    if (known) return { id: known };
    const charge = this.charges.get(request.chargeId);
    if (!charge) throw new Error(`No such charge: '${request.chargeId}'`);
    if (charge.refundedBy) throw new Error(`Charge ${charge.id} has already been refunded`);
    const id = `re_sandbox_${randomBytes(12).toString("hex")}`;
    charge.refundedBy = id;
    this.refundsByKey.set(request.idempotencyKey, id);
    return { id };
  }
}
