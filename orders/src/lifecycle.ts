import { publishEvent, type Tx } from "@ticketforge/common";
import { closeLiveOrder } from "./db/orders";

/**
 * The two ways a live order ends. Each bumps the order's version and writes exactly one event in
 * the caller's transaction; an order that is no longer live is left alone (returns false), which
 * is what makes a second cancel, or a payment after an expiry, have no effect.
 */
export async function cancelLiveOrder(tx: Tx, orderId: string): Promise<boolean> {
  const closed = await closeLiveOrder(tx, orderId, "cancelled");
  if (!closed) return false;
  await publishEvent(tx, "order.cancelled", { id: orderId, version: closed.version, ticket: { id: closed.ticket_id } });
  return true;
}

export async function completeLiveOrder(tx: Tx, orderId: string, paymentId: string): Promise<boolean> {
  const closed = await closeLiveOrder(tx, orderId, "complete", paymentId);
  if (!closed) return false;
  await publishEvent(tx, "order.completed", { id: orderId, version: closed.version, ticket: { id: closed.ticket_id } });
  return true;
}
