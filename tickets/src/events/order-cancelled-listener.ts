import { applyNextVersion, listener } from "@ticketforge/common";
import { releaseTicket } from "../db/tickets";
import { publishTicketUpdated } from "./ticket-events";

/**
 * order.cancelled: the ticket becomes available again, but only if this very order holds it
 * (docs/design.md §4 rule 4): a late cancellation must never free a ticket a newer order holds or sold.
 * Otherwise there is nothing to do, and the order's version is still recorded.
 */
export const orderCancelledListener = listener("order.cancelled", async (event, { tx, log }) => {
  const order = event.data;
  await applyNextVersion(tx, "order", order.id, order.version);
  const released = await releaseTicket(tx, order.ticket.id, order.id);
  if (!released) {
    log.info({ ticketId: order.ticket.id, orderId: order.id }, "cancelled order does not hold the ticket; nothing to release");
    return;
  }
  await publishTicketUpdated(tx, released);
  log.info({ ticketId: released.id, orderId: order.id, version: released.version }, "ticket released");
});
