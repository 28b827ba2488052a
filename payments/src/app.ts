import type { Express } from "express";
import { requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { PaymentProvider } from "./providers";
import type { Refunder } from "./workers/refunder";
import { createPayment } from "./routes/create-payment";

export type PaymentsConfig = ConfigOf<typeof settings>;

/** What the routes get: the service context plus this instance's provider and refunder. */
export interface PaymentsContext extends ServiceContext<PaymentsConfig> {
  provider: PaymentProvider;
  refunder: Refunder;
}

export function routes(app: Express, ctx: PaymentsContext) {
  app.post("/api/payments", requireAuth, createPayment(ctx));
}
