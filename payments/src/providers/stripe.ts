import Stripe from "stripe";
import {
  InvalidPaymentTokenError,
  PaymentDeclinedError,
  type ChargeLookup,
  type ChargeRequest,
  type PaymentProvider,
  type RefundRequest,
} from "./provider";

/**
 * Stripe's minimum charge amounts (docs: "Minimum and maximum charge amounts"), in the smallest
 * unit of each currency; a smaller charge is refused by Stripe itself.
 */
const stripeMinimums: Record<string, number> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  chf: 50,
  cad: 50,
  aud: 50,
  nzd: 50,
  sgd: 50,
  hkd: 400,
  jpy: 50,
  dkk: 250,
  nok: 300,
  sek: 300,
  pln: 200,
  czk: 1500,
  huf: 17500,
  mxn: 1000,
  brl: 50,
  inr: 50,
};

/** How far around an attempt's request time its charge is looked for in the list of charges. */
const listMarginSeconds = 15 * 60;

/**
 * Real charges through Stripe's Charges API with the official client. Its automatic retries of
 * network errors are safe because every request carries our idempotency key.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = "stripe";
  private readonly stripe: Stripe;

  /** `apiUrl` points the client at another server speaking Stripe's API (stripe-mock, a test double). */
  constructor(secretKey: string, apiUrl?: string) {
    const url = apiUrl ? new URL(apiUrl) : undefined;
    const protocol = url?.protocol === "http:" ? "http" : "https";
    this.stripe = new Stripe(secretKey, {
      ...(url && { host: url.hostname, protocol, port: url.port || (protocol === "http" ? 80 : 443) }),
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
    });
  }

  async charge(request: ChargeRequest): Promise<{ id: string }> {
    try {
      const charge = await this.stripe.charges.create(
        {
          amount: request.amountCents,
          currency: request.currency,
          source: request.token,
          description: request.description,
          // lets the reconciler find the charge by its key after a crash
          metadata: { idempotency_key: request.idempotencyKey },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return { id: charge.id };
    } catch (err) {
      const e = err as { type?: string; message?: string; param?: string };
      if (e.type === "StripeCardError") throw new PaymentDeclinedError(e.message || "Your card was declined.");
      // "No such token": the buyer's token, not our request, is wrong
      if (e.type === "StripeInvalidRequestError" && e.param === "source") throw new InvalidPaymentTokenError(e.message);
      throw err;
    }
  }

  /**
   * Search finds the charge by the key in its metadata, but its index lags behind: under a minute
   * normally, longer during an outage (Stripe's docs: "Don't use search for read-after-write
   * flows"). A miss there is therefore no proof; the answer "nothing" comes only from the list of
   * charges created around the request, which Stripe serves without that delay. The request was
   * sent after `requestedAt` and the client gives up within about a minute (three tries of 20 s),
   * so the charge, if any, was created in that window; a margin covers clock skew.
   */
  async findCharge(idempotencyKey: string, requestedAt: Date): Promise<ChargeLookup> {
    const result = await this.stripe.charges.search({ query: `metadata['idempotency_key']:'${idempotencyKey.replace(/'/g, "")}'` });
    const charge =
      result.data.find((c) => c.metadata?.idempotency_key === idempotencyKey) ?? (await this.listedCharge(idempotencyKey, requestedAt));
    if (!charge) return { found: "nothing" };
    return charge.status === "failed" ? { found: "declined" } : { found: "charge", id: charge.id };
  }

  private async listedCharge(idempotencyKey: string, requestedAt: Date): Promise<Stripe.Charge | undefined> {
    const seconds = Math.floor(requestedAt.getTime() / 1000);
    const listed = this.stripe.charges.list({
      created: { gte: seconds - listMarginSeconds, lte: seconds + listMarginSeconds },
      limit: 100,
    });
    for await (const charge of listed) if (charge.metadata?.idempotency_key === idempotencyKey) return charge;
    return undefined;
  }

  minimumChargeCents(currency: string): number {
    return stripeMinimums[currency] ?? 50;
  }

  async refund(request: RefundRequest): Promise<{ id: string }> {
    const refund = await this.stripe.refunds.create({ charge: request.chargeId }, { idempotencyKey: request.idempotencyKey });
    return { id: refund.id };
  }
}
