import type { CancelReason, Order, OrderStatus, TicketStatus } from "@ticketforge/common/api";
import { formatPrice } from "./money";

export type Tone = "success" | "warning" | "neutral" | "info" | "danger";

export const ticketStatusLabel: Record<TicketStatus, { label: string; tone: Tone }> = {
  available: { label: "Available", tone: "success" },
  reserved: { label: "Reserved", tone: "warning" },
  sold: { label: "Sold", tone: "info" },
};

export function isPending(status: OrderStatus): boolean {
  return status === "created" || status === "awaiting:payment";
}

const cancelledLabels: Record<CancelReason, string> = {
  buyer: "Cancelled",
  expired: "Expired",
  "ticket changed": "Ticket changed",
};

/**
 * A cancelled order says why (`cancellation.reason`); one cancelled before reasons were kept
 * does not, and once its window has passed, "Expired" is what the buyer recognises.
 */
export function orderStatusLabel(
  order: Pick<Order, "status" | "expiresAt"> & { cancellation?: Order["cancellation"] },
  now = Date.now(),
): { label: string; tone: Tone } {
  switch (order.status) {
    case "created":
    case "awaiting:payment":
      return { label: "Awaiting payment", tone: "warning" };
    case "complete":
      return { label: "Complete", tone: "success" };
    case "cancelled":
      if (order.cancellation) return { label: cancelledLabels[order.cancellation.reason], tone: "neutral" };
      return Date.parse(order.expiresAt) <= now ? { label: "Expired", tone: "neutral" } : { label: "Cancelled", tone: "neutral" };
    default:
      return { label: String(order.status), tone: "neutral" };
  }
}

/**
 * What a buyer is told about an order whose reservation tickets refused: the seller changed the
 * ticket after the order was priced. `paid`: a payment was taken for it (it is given back).
 */
export function ticketChangedSentence(ticketPrice: number | null, paid: boolean): string {
  const now = ticketPrice === null ? "" : ` (now ${formatPrice(ticketPrice)})`;
  return paid
    ? `The seller changed this ticket after you ordered${now}. Your payment is given back; order again at the new price.`
    : `The seller changed this ticket after you ordered${now}. Nothing was charged; order again at the new price.`;
}
