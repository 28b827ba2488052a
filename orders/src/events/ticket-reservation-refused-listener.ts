import { listener } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { findOrder } from "../db/orders";
import { cancelLiveOrder, unknownOrder } from "../lifecycle";

/**
 * Tickets refused to reserve the ticket for the order: its seller edited it after the version the
 * order was priced at (docs/design.md §4 rule 6). The order is cancelled, keeping why and the
 * ticket's price now for its buyer, and order.cancelled tells payments (which refunds a charge
 * already taken) and expiration as for any cancellation. An order no longer live stays as it is,
 * so a refusal delivered again, or replayed, has no effect.
 */
export const ticketReservationRefusedListener = listener<"ticket.reservation_refused", OrdersTables>({
  subject: "ticket.reservation_refused",
  // a refusal, a payment and an expiry of one order must not be decided at once
  orderedBy: (event) => event.data.orderId,
  async handle({ data }, uow) {
    if (await cancelLiveOrder(uow, data.orderId, { reason: "ticket changed", ticketPriceCents: data.price })) {
      uow.log.info(
        { orderId: data.orderId, ticketId: data.ticketId, price: data.price },
        "order cancelled: its ticket changed after it was priced",
      );
      return;
    }
    const order = await findOrder(uow.db, data.orderId);
    if (!order) throw unknownOrder(data.orderId);
    // A completed order had its ticket reserved for it (completeLive), which tickets never does for
    // an order it refused: unreachable, so said loudly if not.
    if (order.status === "complete") uow.log.warn({ orderId: data.orderId }, "refused reservation of a completed order; ignored");
    else uow.log.info({ orderId: data.orderId, status: order.status }, "order already cancelled; refused reservation ignored");
  },
});
