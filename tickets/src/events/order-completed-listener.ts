import { listener } from "@ticketforge/common";
import { sellTicket } from "../db/tickets";
import type { TicketsTables } from "../db/tables";
import { publishTicketUpdated } from "../ticket-events";

/**
 * order.completed: the order was paid, so the ticket it holds is sold. The orders service alone
 * decides between a payment and an expiry of the same order, hence this event and not
 * payment.completed (docs/design.md §4).
 */
export const orderCompletedListener = listener<"order.completed", TicketsTables>({
  subject: "order.completed",
  orderedBy: (event) => event.data.ticket.id,
  async handle({ data: order }, uow) {
    uow.applyNextVersion("order", order.id, order.version);
    const sold = await sellTicket(uow.db, order.ticket.id, order.id);
    if (!sold) {
      // per-order versions make this unreachable (order.created reserved it); say so loudly if not
      uow.log.warn({ ticketId: order.ticket.id, orderId: order.id }, "completed order does not hold the ticket; nothing to sell");
      return;
    }
    publishTicketUpdated(uow, sold);
    uow.log.info({ ticketId: sold.id, orderId: order.id, version: sold.version }, "ticket sold");
  },
});
