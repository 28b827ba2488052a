import { publishEvent, type Tx } from "@ticketforge/common";
import type { TicketRow } from "../db/tickets";

/** Events carry the price in integer cents (docs/design.md §4). */
export function publishTicketCreated(tx: Tx, t: TicketRow) {
  return publishEvent(tx, "ticket.created", {
    id: t.id,
    title: t.title,
    price: t.price_cents,
    userId: t.user_id,
    version: t.version,
  });
}

/** Every change of a ticket publishes the whole ticket with its new version. */
export function publishTicketUpdated(tx: Tx, t: TicketRow) {
  return publishEvent(tx, "ticket.updated", {
    id: t.id,
    title: t.title,
    price: t.price_cents,
    userId: t.user_id,
    orderId: t.order_id,
    status: t.status,
    version: t.version,
  });
}
