import { applyNextVersion, listener } from "@ticketforge/common";
import { deleteTimer } from "../db/timers";

/**
 * A cancelled order needs no expiry. A cancellation that arrives before its order.created is
 * retried (RetryLater from the version check) until the creation has been applied, so the timer
 * that creation starts is removed too.
 */
export const orderCancelledListener = listener("order.cancelled", async (event, { tx, log }) => {
  const order = event.data;
  await applyNextVersion(tx, "order", order.id, order.version);
  const removed = await deleteTimer(tx, order.id);
  log.info({ orderId: order.id, removed }, "order cancelled; reservation timer stopped");
});
