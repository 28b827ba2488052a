import { listener, RetryLater } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { findOrder, isLive } from "../db/orders";
import { completeLiveOrder, unknownOrder } from "../lifecycle";

/**
 * The buyer paid. A live order becomes complete once tickets has reserved its ticket for it
 * (docs/design.md §4 rule 6): until then the payment waits, and should tickets refuse the
 * reservation (the seller changed the ticket after the order was priced), the order is cancelled
 * and the payment lands on a cancelled order. A payment that lands on an order cancelled in the
 * meantime is ignored here, because the payments service refunds it when it sees order.cancelled
 * (rule 5).
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
    if (isLive(order.status)) {
      // its ticket.updated (reserved for this order) or its ticket.reservation_refused is on its way
      throw new RetryLater(`order ${data.orderId} is paid but its ticket is not reserved for it yet`, 2_000);
    }
    uow.log.info({ orderId: data.orderId, status: order.status, paymentId: data.id }, "payment for a settled order ignored");
  },
});
