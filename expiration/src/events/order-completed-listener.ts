import { applyNextVersion, listener } from "@ticketforge/common";
import { deleteTimer } from "../db/timers";

/** A paid order must never expire: its timer goes. Early arrivals wait as for order.cancelled. */
export const orderCompletedListener = listener("order.completed", async (event, { tx, log }) => {
  const order = event.data;
  await applyNextVersion(tx, "order", order.id, order.version);
  const removed = await deleteTimer(tx, order.id);
  log.info({ orderId: order.id, removed }, "order paid; reservation timer stopped");
});
