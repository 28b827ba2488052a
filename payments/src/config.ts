import { z } from "zod";
import { baseSettings, setting } from "@ticketforge/common";

/** Every environment variable the payments service reads (see .env.example). */
export const settings = {
  ...baseSettings("payments", 3004),
  /** Stripe secret key: when set, cards are charged through Stripe; unset means the built-in sandbox. */
  STRIPE_KEY: z.string().min(1).optional(),
  /**
   * Which provider takes the money: unset means Stripe when STRIPE_KEY is set, otherwise the
   * sandbox, except in production, where the sandbox must be chosen explicitly.
   */
  PAYMENTS_PROVIDER: z.enum(["stripe", "sandbox"], { message: "must be stripe or sandbox" }).optional(),
  /** Where the Stripe client sends its requests (default Stripe's API), e.g. http://127.0.0.1:12111 for a local stripe-mock. */
  STRIPE_API_URL: z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" }).optional(),
  /** Currency of every charge (ISO 4217, lower case as Stripe expects it). */
  PAYMENT_CURRENCY: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z]{3}$/, "must be a three-letter currency code such as usd")
    .default("usd"),
  /** How often the refunder looks for charges to give back (orders cancelled after they were paid). */
  PAYMENT_REFUND_SWEEP_MS: setting.positiveInt(1_000),
  /** After the provider failed to refund, wait this long before trying that refund again (doubling, up to an hour). */
  PAYMENT_REFUND_RETRY_MS: setting.positiveInt(30_000),
  /** Failed tries of one refund before it is reported to an operator (an error log and a dead letter). */
  PAYMENT_REFUND_ALERT_AFTER: setting.positiveInt(5),
  /** How often the reconciler looks for charge attempts left pending (a crash between charge and record). */
  PAYMENT_RECONCILE_SWEEP_MS: setting.positiveInt(15_000),
  /** How old a pending attempt must be before the reconciler asks the provider about it. */
  PAYMENT_RECONCILE_AFTER_MS: setting.positiveInt(60_000),
  /** Failed cards (declined or unknown tokens) per order and per buyer within the window before payments answers 429. */
  PAYMENT_DECLINES_PER_ORDER: setting.positiveInt(3),
  PAYMENT_DECLINES_PER_BUYER: setting.positiveInt(10),
  PAYMENT_DECLINE_WINDOW_SECONDS: setting.positiveInt(3_600),
  /**
   * Payment attempts per client network (an IPv4 address, an IPv6 /64) per minute, whatever the
   * buyer and the outcome, before payments answers 429: many accounts behind one address cannot
   * multiply the per-buyer limits. A buyer pays once or twice; raise it for many buyers behind one
   * address (a venue's box office, a carrier's NAT).
   */
  PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE: setting.positiveInt(30),
};
