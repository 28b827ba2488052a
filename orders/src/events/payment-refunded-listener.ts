import { listener } from "@ticketforge/common";
import { recordRefund } from "../db/orders";
import { unknownOrder } from "./unknown-order";

/** A payment that raced the order's cancellation was refunded: the buyer sees it on the order. */
export const paymentRefunded = listener("payment.refunded", async ({ data, occurredAt }, { tx, log }) => {
  if (!(await recordRefund(tx, data.orderId, data.amount, occurredAt))) throw unknownOrder(data.orderId);
  log.info({ orderId: data.orderId, paymentId: data.id, amount: data.amount }, "refund recorded");
});
