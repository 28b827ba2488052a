import { listener, RetryLater, type EventData } from "@ticketforge/common";
import { changedSince, lockTicket, reserveTicket } from "../db/tickets";
import type { TicketsTables, TicketsWork } from "../db/tables";
import { publishTicketUpdated } from "../ticket-events";

/**
 * order.created: the ticket is reserved for the order, if its seller has not edited it since the
 * version the order was priced at (docs/design.md §4 rule 6); otherwise the reservation is refused
 * with ticket.reservation_refused, at once and for good, and orders cancels the order. A ticket
 * another order still holds means that order's cancellation is on its way (the orders database
 * allows one live order per ticket): wait for it (rule 4). Throwing rolls the unit of work back,
 * so neither the order's version nor the inbox row is recorded and the redelivery is handled afresh.
 */
export const orderCreatedListener = listener<"order.created", TicketsTables>({
  subject: "order.created",
  // every order event about one ticket, in stream order: an older order's creation handled after
  // a newer one's would wait for a cancellation that cannot come before it
  orderedBy: (event) => event.data.ticket.id,
  async handle({ data: order }, uow) {
    uow.applyNextVersion("order", order.id, order.version);
    // The usual case in one statement: the ticket is available, unchanged since the order priced
    // it, and this order takes it. Only when it is not is the ticket locked and read, to tell why.
    const reserved = (await reserveTicket(uow.db, order.ticket.id, order.id, order.ticket)) ?? (await whyNotReserved(uow, order));
    if (!reserved) return; // already reserved for this order, or refused: nothing to change
    publishTicketUpdated(uow, reserved);
    uow.log.info({ ticketId: reserved.id, orderId: order.id, version: reserved.version }, "ticket reserved");
  },
});

/** Undefined when the ticket is already this order's or the reservation is refused (published); throws for every other reason. */
async function whyNotReserved(uow: TicketsWork, order: EventData<"order.created">): Promise<undefined> {
  const ticket = await lockTicket(uow.db, order.ticket.id);
  // Tickets owns tickets and orders only learns of one from ticket.created, so an unknown ticket
  // never becomes known by waiting: it is a broken or misrouted event (or lost data). Failing
  // parks it in the dead letters, where an operator sees it and can replay it, instead of
  // acknowledging a reservation that never happened.
  if (!ticket) throw new Error(`order ${order.id} names ticket ${order.ticket.id}, which does not exist here`);
  if (ticket.order_id === order.id) return undefined;
  // Priced before its seller's last edit: the buyer would pay an old price for it (issue 27,
  // finding 11). No wait changes that, and it is no fault to park: orders is told, and cancels.
  // Checked before what holds the ticket now, since a stale price stays stale whoever holds it.
  if (changedSince(ticket, order.ticket)) {
    uow.publish("ticket.reservation_refused", {
      orderId: order.id,
      ticketId: ticket.id,
      reason: "ticket changed",
      price: ticket.price_cents,
      version: ticket.version,
    });
    uow.log.info(
      { ticketId: ticket.id, orderId: order.id, pricedAt: order.ticket, editedVersion: ticket.edited_version, price: ticket.price_cents },
      "reservation refused: the seller changed the ticket after the order was priced",
    );
    return undefined;
  }
  // A sale is final: waiting would only delay the same dead letter.
  if (ticket.status === "sold") throw new Error(`order ${order.id} names ticket ${ticket.id}, already sold to order ${ticket.order_id}`);
  if (ticket.status === "reserved") {
    throw new RetryLater(`ticket ${ticket.id} is held by order ${ticket.order_id}; waiting for its cancellation`);
  }
  // freed between the two statements (the order holding it was cancelled): try again
  throw new RetryLater(`ticket ${ticket.id} was freed while this order waited for it`, 100);
}
