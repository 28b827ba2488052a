import { checkNextVersion, listener, RetryLater } from "@ticketforge/common";
import { lockOrder, setOrderStatus } from "../db/orders";
import { scheduleRefund } from "../db/payments";
import type { PaymentsTables } from "../db/tables";

/**
 * A cancelled order can no longer be paid. If it was paid all the same (the payment raced the
 * expiry), its charge is queued for the refunder (docs/design.md §4 rule 5), which gives it back outside
 * this transaction. The order row stays locked meanwhile, so a payment being recorded for it
 * either committed before (and is queued here) or sees the cancellation (and refunds itself).
 */
export const orderCancelledListener = listener<"order.cancelled", PaymentsTables>({
  subject: "order.cancelled",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    const order = await lockOrder(uow.db, data.id);
    if (!order) throw new RetryLater(`order ${data.id} not known yet`);
    checkNextVersion(order.version, data.version, `order ${data.id}`);
    await setOrderStatus(uow.db, data.id, "cancelled", data.version);
    const paid = await scheduleRefund(uow.db, data.id);
    if (paid) uow.log.warn({ orderId: data.id, paymentId: paid.id }, "paid order was cancelled; refund scheduled");
    else uow.log.info({ orderId: data.id }, "order cancelled");
  },
});
