import { listener } from "@ticketforge/common";
import { findOrder } from "../db/orders";
import { completeLiveOrder } from "../lifecycle";
import { unknownOrder } from "./unknown-order";

/**
 * The buyer paid. A live order becomes complete; a payment that lands on an order cancelled in
 * the meantime is ignored here, because the payments service refunds it when it sees
 * order.cancelled (docs/design.md §4 rule 5).
 */
export const paymentCompleted = listener("payment.completed", async ({ data }, { tx, log }) => {
  if (await completeLiveOrder(tx, data.orderId, data.id)) {
    log.info({ orderId: data.orderId, paymentId: data.id }, "order paid and complete");
    return;
  }
  const order = await findOrder(tx, data.orderId);
  if (!order) throw unknownOrder(data.orderId);
  log.info({ orderId: data.orderId, status: order.status, paymentId: data.id }, "payment for a settled order ignored");
});
