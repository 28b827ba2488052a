import { applyNextVersion, listener } from "@ticketforge/common";
import { sellTicket } from "../db/tickets";
import { publishTicketUpdated } from "./ticket-events";

/**
 * order.completed: the order was paid, so the ticket it holds is sold. The orders service alone
 * decides between a payment and an expiry of the same order, hence this event and not
 * payment.completed (docs/design.md §4).
 */
export const orderCompletedListener = listener("order.completed", async (event, { tx, log }) => {
  const order = event.data;
  await applyNextVersion(tx, "order", order.id, order.version);
  const sold = await sellTicket(tx, order.ticket.id, order.id);
  if (!sold) {
    // per-order versions make this unreachable (order.created reserved it); say so loudly if not
    log.warn({ ticketId: order.ticket.id, orderId: order.id }, "completed order does not hold the ticket; nothing to sell");
    return;
  }
  await publishTicketUpdated(tx, sold);
  log.info({ ticketId: sold.id, orderId: order.id, version: sold.version }, "ticket sold");
});
