import { applyNextVersion, listener } from "@ticketforge/common";
import { insertTimer } from "../db/timers";

/**
 * A new order starts its reservation timer. The version check also keeps a late copy of
 * order.created (version 0) from starting a timer again once the order was cancelled or paid.
 */
export const orderCreatedListener = listener("order.created", async (event, { tx, log }) => {
  const order = event.data;
  await applyNextVersion(tx, "order", order.id, order.version);
  await insertTimer(tx, order.id, order.expiresAt);
  log.info({ orderId: order.id, expiresAt: order.expiresAt }, "reservation timer started");
});
