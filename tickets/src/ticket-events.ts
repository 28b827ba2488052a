import type { TicketRow } from "./db/tickets";
import type { TicketsWork } from "./db/tables";

/** Events carry the price in integer cents (docs/design.md §4). */
export function publishTicketCreated(uow: TicketsWork, t: TicketRow) {
  return uow.publish("ticket.created", {
    id: t.id,
    title: t.title,
    price: t.price_cents,
    userId: t.user_id,
    version: t.version,
  });
}

/** Every change of a ticket publishes the whole ticket with its new version. */
export function publishTicketUpdated(uow: TicketsWork, t: TicketRow) {
  return uow.publish("ticket.updated", {
    id: t.id,
    title: t.title,
    price: t.price_cents,
    userId: t.user_id,
    orderId: t.order_id,
    status: t.status,
    version: t.version,
  });
}
