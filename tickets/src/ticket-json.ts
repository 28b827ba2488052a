import { fromCents } from "@ticketforge/common";
import type { Ticket } from "@ticketforge/common/api";
import type { TicketRow } from "./db/tickets";

/** A ticket as the API shows it: price in currency units, never cents. */
export function ticketJson(row: TicketRow): Ticket {
  return {
    id: row.id,
    title: row.title,
    price: fromCents(row.price_cents),
    userId: row.user_id,
    version: row.version,
    orderId: row.order_id,
    status: row.status,
  };
}
