import { RetryLater } from "@ticketforge/common";

/**
 * An order row commits before its order.created leaves the outbox, so no other service can name
 * an order this database does not have, unless the database is behind (restored from a backup).
 * Waiting is the safe choice: the event is redelivered and, if the order never appears, parked
 * in the dead-letter stream where an operator sees it.
 */
export function unknownOrder(orderId: string): RetryLater {
  return new RetryLater(`order ${orderId} not known`);
}
