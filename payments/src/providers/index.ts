import type { ConfigOf, Queryable } from "@ticketforge/common";
import type { settings } from "../config";
import type { PaymentProvider } from "./provider";
import { SandboxProvider } from "./sandbox";
import { DatabaseLedger } from "./sandbox-ledger";
import { StripeProvider } from "./stripe";

export * from "./provider";
export { SandboxProvider } from "./sandbox";
export { DatabaseLedger, MemoryLedger } from "./sandbox-ledger";
export { StripeProvider } from "./stripe";

/** Stripe when a key is configured, otherwise the sandbox (DESIGN §3), its ledger in `db` when given. */
export function createProvider(config: Pick<ConfigOf<typeof settings>, "STRIPE_KEY" | "STRIPE_API_URL">, db?: Queryable): PaymentProvider {
  if (config.STRIPE_KEY) return new StripeProvider(config.STRIPE_KEY, config.STRIPE_API_URL);
  return new SandboxProvider(db ? new DatabaseLedger(db) : undefined);
}
