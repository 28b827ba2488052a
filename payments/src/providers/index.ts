import type { ConfigOf } from "@ticketforge/common";
import type { settings } from "../config";
import type { PaymentProvider } from "./provider";
import { SandboxProvider } from "./sandbox";
import { StripeProvider } from "./stripe";

export * from "./provider";
export { SandboxProvider } from "./sandbox";
export { StripeProvider } from "./stripe";

/** Stripe when a key is configured, otherwise the sandbox (docs/design.md §3). */
export function createProvider(config: Pick<ConfigOf<typeof settings>, "STRIPE_KEY" | "STRIPE_API_URL">): PaymentProvider {
  return config.STRIPE_KEY ? new StripeProvider(config.STRIPE_KEY, config.STRIPE_API_URL) : new SandboxProvider();
}
