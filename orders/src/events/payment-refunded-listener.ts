import { listener } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { recordRefund } from "../db/orders";
import { unknownOrder } from "../lifecycle";

/** A payment that raced the order's cancellation was refunded: the buyer sees it on the order. */
export const paymentRefundedListener = listener<"payment.refunded", OrdersTables>({
  subject: "payment.refunded",
  orderedBy: (event) => event.data.orderId,
  async handle({ data, occurredAt }, uow) {
    if (!(await recordRefund(uow.db, data.orderId, data.amount, occurredAt))) throw unknownOrder(data.orderId);
    uow.log.info({ orderId: data.orderId, paymentId: data.id, amount: data.amount }, "refund recorded");
  },
});
