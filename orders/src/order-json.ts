import { fromCents, isUuid, NotFoundError } from "@ticketforge/common";
import type { Order } from "@ticketforge/common/api";
import type { OrderRow } from "./db/orders";

/** The order id of a route; a malformed one names no order, so it is a 404 like an unknown one. */
export function orderIdOf(params: { id?: string }): string {
  if (!isUuid(params.id)) throw new NotFoundError("Order not found");
  return params.id;
}

const iso = (d: Date | string) => new Date(d).toISOString();

/** An order as the API shows it: money in currency units, times in ISO 8601. */
export function toOrderJson(o: OrderRow): Order {
  return {
    id: o.id,
    userId: o.user_id,
    status: o.status,
    expiresAt: iso(o.expires_at),
    version: o.version,
    ticket: { id: o.ticket_id, title: o.ticket_title, price: fromCents(o.price_cents) },
    refund:
      o.refund_amount_cents === null || o.refunded_at === null
        ? null
        : { amount: fromCents(o.refund_amount_cents), refundedAt: iso(o.refunded_at) },
    cancellation:
      o.status !== "cancelled" || o.cancel_reason === null
        ? null
        : {
            reason: o.cancel_reason,
            ticketPrice: o.changed_ticket_price_cents === null ? null : fromCents(o.changed_ticket_price_cents),
          },
  };
}
