/**
 * A payment provider charges a card token and refunds a charge. Both calls take an idempotency
 * key: calling again with the same key never charges or refunds twice, it answers with the first
 * outcome (that is what makes a retry after a timeout, or two concurrent payments, safe).
 */
export interface ChargeRequest {
  amountCents: number;
  currency: string;
  token: string;
  idempotencyKey: string;
  description: string;
}

export interface RefundRequest {
  chargeId: string;
  idempotencyKey: string;
}

/** What became of a charge request, by its idempotency key. */
export type ChargeLookup = { found: "charge"; id: string } | { found: "declined" } | { found: "nothing" };

export interface PaymentProvider {
  /** Stored with each payment, so that support knows where to look it up. */
  readonly name: string;
  /** Throws PaymentDeclinedError or InvalidPaymentTokenError when the buyer must try another card. */
  charge(request: ChargeRequest): Promise<{ id: string }>;
  refund(request: RefundRequest): Promise<{ id: string }>;
  /**
   * Asks the provider what a charge request with this key, sent at `requestedAt`, came to (the
   * reconciler's question). "nothing" must be the provider's word that no charge was made, not a
   * lookup that may not see a recent charge yet.
   */
  findCharge(idempotencyKey: string, requestedAt: Date): Promise<ChargeLookup>;
  /** The smallest amount the provider can charge in `currency`. */
  minimumChargeCents(currency: string): number;
  /** Lets go of what the provider holds open (the sandbox's connections), on shutdown. */
  close?(): Promise<void>;
}

/** The card was refused; `reason` is the provider's own words, shown to the buyer. */
export class PaymentDeclinedError extends Error {
  override name = "PaymentDeclinedError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The token names no card the provider knows (a typo, an expired or already used token). */
export class InvalidPaymentTokenError extends Error {
  override name = "InvalidPaymentTokenError";
  constructor(message = "Invalid payment token") {
    super(message);
  }
}
