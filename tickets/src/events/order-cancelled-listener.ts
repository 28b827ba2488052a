import { listener } from "@ticketforge/common";
import { releaseTicket } from "../db/tickets";
import type { TicketsTables } from "../db/tables";
import { publishTicketUpdated } from "../ticket-events";

/**
 * order.cancelled: the ticket becomes available again, but only if this very order holds it
 * (docs/design.md §4 rule 4): a late cancellation must never free a ticket a newer order holds or sold.
 * Otherwise there is nothing to do, and the order's version is still recorded.
 */
export const orderCancelledListener = listener<"order.cancelled", TicketsTables>({
  subject: "order.cancelled",
  // every order event about one ticket, in stream order: two orders' events must not overtake each other
  orderedBy: (event) => event.data.ticket.id,
  async handle({ data: order }, uow) {
    uow.applyNextVersion("order", order.id, order.version);
    const released = await releaseTicket(uow.db, order.ticket.id, order.id);
    if (!released) {
      uow.log.info({ ticketId: order.ticket.id, orderId: order.id }, "cancelled order does not hold the ticket; nothing to release");
      return;
    }
    publishTicketUpdated(uow, released);
    uow.log.info({ ticketId: released.id, orderId: order.id, version: released.version }, "ticket released");
  },
});
