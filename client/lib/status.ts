import type { Order, OrderStatus, TicketStatus } from "@ticketforge/common/api";

export type Tone = "success" | "warning" | "neutral" | "info" | "danger";

export const ticketStatusLabel: Record<TicketStatus, { label: string; tone: Tone }> = {
  available: { label: "Available", tone: "success" },
  reserved: { label: "Reserved", tone: "warning" },
  sold: { label: "Sold", tone: "info" },
};

export function isPending(status: OrderStatus): boolean {
  return status === "created" || status === "awaiting:payment";
}

/**
 * The API has one `cancelled` status for both a reservation that ran out and one the buyer
 * cancelled; once the window has passed, "Expired" is what the buyer recognises.
 */
export function orderStatusLabel(order: Pick<Order, "status" | "expiresAt">, now = Date.now()): { label: string; tone: Tone } {
  switch (order.status) {
    case "created":
    case "awaiting:payment":
      return { label: "Awaiting payment", tone: "warning" };
    case "complete":
      return { label: "Complete", tone: "success" };
    case "cancelled":
      return Date.parse(order.expiresAt) <= now ? { label: "Expired", tone: "neutral" } : { label: "Cancelled", tone: "neutral" };
    default:
      return { label: String(order.status), tone: "neutral" };
  }
}
