import type { ConfigOf } from "@ticketforge/common";
import type { settings } from "../config";
import type { PaymentProvider } from "./provider";
import { DatabaseLedger, SandboxProvider } from "./sandbox";
import { StripeProvider } from "./stripe";

export * from "./provider";
export { SandboxProvider, MemoryLedger, DatabaseLedger } from "./sandbox";
export { StripeProvider } from "./stripe";

export class ProviderConfigError extends Error {
  override name = "ProviderConfigError";
}

/**
 * Stripe when a key is configured, otherwise the sandbox (docs/design.md §3). In production the sandbox
 * would sell every ticket for nothing (tok_visa always succeeds), so there it must be asked for
 * by name (PAYMENTS_PROVIDER=sandbox); a missing key is a start-up error, never a quiet fallback.
 */
export function createProvider(
  config: Partial<Pick<ConfigOf<typeof settings>, "STRIPE_KEY" | "STRIPE_API_URL" | "PAYMENTS_PROVIDER" | "NODE_ENV">>,
  /** Where the sandbox keeps its books (the payments database); none: in memory. */
  databaseUrl?: string,
): PaymentProvider {
  const choice = config.PAYMENTS_PROVIDER ?? (config.STRIPE_KEY ? "stripe" : "sandbox");
  if (choice === "stripe") {
    if (!config.STRIPE_KEY) throw new ProviderConfigError("PAYMENTS_PROVIDER=stripe needs STRIPE_KEY");
    return new StripeProvider(config.STRIPE_KEY, config.STRIPE_API_URL);
  }
  if (config.NODE_ENV === "production" && config.PAYMENTS_PROVIDER !== "sandbox") {
    throw new ProviderConfigError(
      "no payment provider in production: set STRIPE_KEY to take real payments, or PAYMENTS_PROVIDER=sandbox " +
        "to run without taking money (every tok_visa payment then succeeds for free)",
    );
  }
  // the sandbox keeps its books in the payments database, so a refund after a restart finds its charge
  return new SandboxProvider(databaseUrl ? new DatabaseLedger(databaseUrl) : undefined);
}
