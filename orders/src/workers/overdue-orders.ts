import { sql, SweepLoop, type Worker } from "@ticketforge/common";
import type { OrdersContext } from "../app";
import { cancelLiveOrder } from "../lifecycle";

/**
 * The backstop of the reservation window. The expiration service tells orders when a window has
 * run out; should that word never come (its timer lost with a restored database, the service down
 * for long), an order still live `ORDERS_OVERDUE_AFTER_SECONDS` past its window is cancelled here,
 * so that its ticket is for sale again. Each order is closed in a unit of work of its own, exactly
 * as an expiry would close it; a late expiration.complete then finds it settled and is ignored.
 */
export function overdueOrders(ctx: OrdersContext): Worker {
  const pass = async () => {
    const overdue = await sql<{ id: string }>`select id from orders
      where status in ('created', 'awaiting:payment')
        and expires_at < now() - make_interval(secs => ${ctx.config.ORDERS_OVERDUE_AFTER_SECONDS})
      order by expires_at limit 100`.execute(ctx.db);
    for (const { id } of overdue.rows) {
      await ctx.work(async (uow) => {
        if (await cancelLiveOrder(uow, id, { reason: "expired" }))
          uow.log.warn({ orderId: id }, "order cancelled long past its window: no expiry came for it");
      });
    }
  };
  const loop = new SweepLoop(pass, {
    intervalMs: ctx.config.ORDERS_OVERDUE_SWEEP_MS,
    onError: (err) => ctx.log.warn({ err: (err as Error).message }, "overdue orders pass failed; tried again at the next one"),
  }).start();
  return { stop: () => loop.stop() };
}
