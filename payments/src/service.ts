import path from "node:path";
import type { ServiceContext, ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import { routes, type PaymentsConfig, type PaymentsContext } from "./app";
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
  const instances = new WeakMap<ServiceContext<PaymentsConfig>, PaymentsContext>();
  /** The routes and the workers of one instance get the same context object: extend it once. */
  const context = (ctx: ServiceContext<PaymentsConfig>): PaymentsContext => {
    let extended = instances.get(ctx);
    if (!extended) {
      const provider = options.provider ?? createProvider(ctx.config, ctx.db);
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
      const partial = { ...ctx, provider, refunder } as PaymentsContext;
      partial.reconciler = new Reconciler(partial, {
        sweepIntervalMs: ctx.config.PAYMENT_RECONCILE_SWEEP_MS,
        olderThanMs: ctx.config.PAYMENT_RECONCILE_AFTER_MS,
      });
      extended = partial;
      instances.set(ctx, extended);
      ctx.log.info({ provider: provider.name, currency: ctx.config.PAYMENT_CURRENCY }, "payment provider ready");
    }
    return extended;
  };
  return {
    name: "payments",
    settings,
    migrationsDir: path.join(__dirname, "db", "migrations"),
    routes: (app, ctx) => routes(app, context(ctx)),
    listeners: [orderCreatedListener, orderCancelledListener, orderCompletedListener],
    workers: (ctx) => [context(ctx).refunder.start(), context(ctx).reconciler.start()],
    /** The extended context of a running instance (tests reach its provider and refunder). */
    context,
  } satisfies ServiceDefinition<typeof settings> & { context: typeof context };
}

export const payments = paymentsService();
