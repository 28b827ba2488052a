import { fromCents } from "@ticketforge/common";
import type { Ticket } from "@ticketforge/common/api";
import type { TicketRow } from "./db/tickets";

/**
 * A ticket as the API shows it to `viewerId`: price in currency units, never cents. Who sells it
 * and which order holds it are the seller's business only: anyone else sees neither.
 */
export function ticketJson(row: TicketRow, viewerId: string | undefined): Ticket {
  const seller = viewerId !== undefined && viewerId === row.user_id;
  return {
    id: row.id,
    title: row.title,
    price: fromCents(row.price_cents),
    ...(seller && { userId: row.user_id }),
    version: row.version,
    ...(seller && { orderId: row.order_id }),
    status: row.status,
  };
}
