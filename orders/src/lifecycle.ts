import { RetryLater } from "@ticketforge/common";
import { cancelLive, completeLive } from "./db/orders";
import type { CancelReason, OrdersWork } from "./db/tables";

/**
 * The two ways a live order ends. Each bumps the order's version and publishes exactly one event
 * in the caller's unit of work; an order that is no longer live is left alone (returns false),
 * which is what makes a second cancel, or a payment after an expiry, have no effect.
 */
export async function cancelLiveOrder(
  uow: OrdersWork,
  orderId: string,
  why: { reason: CancelReason; ticketPriceCents?: number },
): Promise<boolean> {
  const closed = await cancelLive(uow.db, orderId, why);
  if (!closed) return false;
  uow.publish("order.cancelled", { id: orderId, version: closed.version, ticket: { id: closed.ticket_id } });
  return true;
}

/**
 * Only once tickets has reserved the ticket for the order (docs/design.md §4 rule 6): false too
 * for a live order whose reservation is not confirmed, which the caller tells apart.
 */
export async function completeLiveOrder(uow: OrdersWork, orderId: string, paymentId: string): Promise<boolean> {
  const closed = await completeLive(uow.db, orderId, paymentId);
  if (!closed) return false;
  uow.publish("order.completed", { id: orderId, version: closed.version, userId: closed.user_id, ticket: { id: closed.ticket_id } });
  return true;
}

/**
 * An order row commits before its order.created leaves the outbox, so no other service can name
 * an order this database does not have, unless the database is behind (restored from a backup).
 * Waiting is the safe choice: the event is redelivered and, if the order never appears, parked
 * in the dead-letter stream where an operator sees it.
 */
export function unknownOrder(orderId: string): RetryLater {
  return new RetryLater(`order ${orderId} not known`);
}
