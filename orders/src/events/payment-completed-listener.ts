import { listener } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { findOrder } from "../db/orders";
import { completeLiveOrder, unknownOrder } from "../lifecycle";

/**
 * The buyer paid. A live order becomes complete; a payment that lands on an order cancelled in
 * the meantime is ignored here, because the payments service refunds it when it sees
 * order.cancelled (docs/design.md §4 rule 5).
 */
export const paymentCompletedListener = listener<"payment.completed", OrdersTables>({
  subject: "payment.completed",
  orderedBy: (event) => event.data.orderId,
  async handle({ data }, uow) {
    if (await completeLiveOrder(uow, data.orderId, data.id)) {
      uow.log.info({ orderId: data.orderId, paymentId: data.id }, "order paid and complete");
      return;
    }
    const order = await findOrder(uow.db, data.orderId);
    if (!order) throw unknownOrder(data.orderId);
    uow.log.info({ orderId: data.orderId, status: order.status, paymentId: data.id }, "payment for a settled order ignored");
  },
});
