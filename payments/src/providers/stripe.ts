import Stripe from "stripe";
import { InvalidPaymentTokenError, PaymentDeclinedError, type ChargeRequest, type PaymentProvider, type RefundRequest } from "./provider";

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
        { amount: request.amountCents, currency: request.currency, source: request.token, description: request.description },
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

  async refund(request: RefundRequest): Promise<{ id: string }> {
    const refund = await this.stripe.refunds.create({ charge: request.chargeId }, { idempotencyKey: request.idempotencyKey });
    return { id: refund.id };
  }
}
