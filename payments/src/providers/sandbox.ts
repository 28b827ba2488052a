import { randomBytes } from "node:crypto";
import { InvalidPaymentTokenError, PaymentDeclinedError, type ChargeRequest, type PaymentProvider, type RefundRequest } from "./provider";
import { MemoryLedger, type ChargeOutcome, type SandboxCharge, type SandboxLedger } from "./sandbox-ledger";

export type { SandboxCharge } from "./sandbox-ledger";

/** The test tokens Stripe documents, so that the same cards work with both providers. */
const declined = "tok_chargeDeclined";
const accepted = "tok_visa";

const answer = (outcome: ChargeOutcome) => {
  if ("declined" in outcome) throw new PaymentDeclinedError(outcome.declined);
  return { id: outcome.chargeId };
};

/**
 * The built-in provider: no network, no money. `tok_visa` is charged, `tok_chargeDeclined` is
 * declined with Stripe's message, any other token is invalid. Like Stripe, it remembers the first
 * outcome of each idempotency key (a charge or a decline) and answers every later call with that
 * key the same way. The service keeps that ledger in its database, so that all its replicas share
 * it (one replica charges, another refunds); without a database it lives in memory.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = "sandbox";
  /** The charges this instance made, by id (what tests look at). */
  readonly charges = new Map<string, SandboxCharge>();

  constructor(private readonly ledger: SandboxLedger = new MemoryLedger()) {}

  async charge(request: ChargeRequest): Promise<{ id: string }> {
    const known = await this.ledger.outcomeOf(request.idempotencyKey);
    if (known) return answer(known);
    if (request.token === declined) return answer(await this.ledger.settle(request, { declined: "Your card was declined." }));
    // an unknown token is refused before anything happens, so it leaves no outcome behind (as with Stripe)
    if (request.token !== accepted) throw new InvalidPaymentTokenError(`No such token: '${request.token}'`);
    const id = `ch_sandbox_${randomBytes(12).toString("hex")}`;
    const outcome = await this.ledger.settle(request, { chargeId: id });
    if ("chargeId" in outcome && outcome.chargeId === id) this.charges.set(id, { ...request, id });
    return answer(outcome);
  }

  async refund(request: RefundRequest): Promise<{ id: string }> {
    const id = await this.ledger.refund(request.chargeId, request.idempotencyKey, `re_sandbox_${randomBytes(12).toString("hex")}`);
    const charge = this.charges.get(request.chargeId);
    if (charge) charge.refundedBy = id;
    return { id };
  }
}
