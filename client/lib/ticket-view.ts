import type { Order, Ticket, User } from "@ticketforge/common/api";

/** Why the Buy button is disabled for this viewer, or null when they can buy. */
export function buyBlockedReason(ticket: Ticket, user: User | null, ownOrder: Order | null): string | null {
  if (user && ticket.userId === user.id) return "This is your own ticket.";
  if (ticket.status === "sold") return "This ticket has been sold.";
  if (ticket.status === "reserved") {
    return ownOrder
      ? "You have reserved this ticket — finish paying for your order."
      : "Another buyer has reserved this ticket. It goes back on sale if they do not pay in time.";
  }
  return null;
}
