import path from "node:path";
import type { ServiceContext, ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import { routes, type PaymentsConfig, type PaymentsContext } from "./app";
import type { PaymentsTables } from "./db/tables";
import { createProvider, type PaymentProvider } from "./providers";
import { Refunder } from "./workers/refunder";
import { Reconciler } from "./workers/reconciler";
import { orderCreatedListener } from "./events/order-created-listener";
import { orderCancelledListener } from "./events/order-cancelled-listener";
import { orderCompletedListener } from "./events/order-completed-listener";

/**
 * The payments service. A running instance has one provider shared by its routes and its
 * refunder, hence a function; tests pass their own provider.
 */
export function paymentsService(options: { provider?: PaymentProvider } = {}) {
  /** The provider and the workers of one instance, added to the context of its routes and workers. */
  const extend = (ctx: ServiceContext<PaymentsConfig, PaymentsTables>): Omit<PaymentsContext, keyof typeof ctx> => {
    const provider = options.provider ?? createProvider(ctx.config, ctx.config.DATABASE_URL);
    if (provider.name === "sandbox" && ctx.config.NODE_ENV === "production") {
      ctx.log.warn("PAYMENTS_PROVIDER=sandbox in production: payments go to the sandbox and no money is taken");
    }
    const refunder = new Refunder({
      ...ctx,
      provider,
      sweepIntervalMs: ctx.config.PAYMENT_REFUND_SWEEP_MS,
      retryDelayMs: ctx.config.PAYMENT_REFUND_RETRY_MS,
      alertAfter: ctx.config.PAYMENT_REFUND_ALERT_AFTER,
    });
    const reconciler = new Reconciler(
      { ...ctx, provider, refunder },
      { sweepIntervalMs: ctx.config.PAYMENT_RECONCILE_SWEEP_MS, olderThanMs: ctx.config.PAYMENT_RECONCILE_AFTER_MS },
    );
    ctx.log.info({ provider: provider.name, currency: ctx.config.PAYMENT_CURRENCY }, "payment provider ready");
    return { provider, refunder, reconciler };
  };
  return {
    name: "payments",
    settings,
    migrationsDir: path.join(__dirname, "db", "migrations"),
    extend,
    routes,
    listeners: [orderCreatedListener, orderCancelledListener, orderCompletedListener],
    // the provider closes last: the refunder and the reconciler may still be calling it
    workers: (ctx) => [{ stop: async () => ctx.provider.close?.() }, ctx.refunder.start(), ctx.reconciler.start()],
  } satisfies ServiceDefinition<typeof settings, PaymentsTables, Omit<PaymentsContext, keyof ServiceContext>>;
}

export const payments = paymentsService();
