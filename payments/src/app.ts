import type { Express } from "express";
import { RateLimiter, clientNetwork, idempotent, rateLimit, requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { PaymentsTables } from "./db/tables";
import type { PaymentProvider } from "./providers";
import type { Refunder } from "./workers/refunder";
import type { Reconciler } from "./workers/reconciler";
import { createPayment } from "./routes/create-payment";

export type PaymentsConfig = ConfigOf<typeof settings>;

/** What the routes and workers get: the service context plus this instance's provider and workers. */
export interface PaymentsContext extends ServiceContext<PaymentsConfig, PaymentsTables> {
  provider: PaymentProvider;
  refunder: Refunder;
  reconciler: Reconciler;
}

export function routes(app: Express, ctx: PaymentsContext) {
  const window = ctx.config.PAYMENT_DECLINE_WINDOW_SECONDS;
  const declines = {
    perOrder: new RateLimiter(ctx.db, { name: "declines-order", limit: ctx.config.PAYMENT_DECLINES_PER_ORDER, windowSeconds: window }),
    perBuyer: new RateLimiter(ctx.db, { name: "declines-buyer", limit: ctx.config.PAYMENT_DECLINES_PER_BUYER, windowSeconds: window }),
  };
  // every attempt from one network counts, signed in or not, before anything else is read
  const perNetwork = rateLimit(ctx.db, {
    name: "payments-network",
    limit: ctx.config.PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE,
    windowSeconds: 60,
    key: clientNetwork,
    message: (s) => `Too many payment attempts from your network, try again in ${s} seconds`,
  });
  app.post("/api/payments", perNetwork, requireAuth, idempotent(ctx.db, "create-payment"), createPayment(ctx, declines));
}
