import { listener } from "@ticketforge/common";
import { recordOrder } from "../db/orders";

/** Keeps a copy of each new order: who may pay it, and the price to charge (never the buyer's word). */
export const orderCreatedListener = listener("order.created", async ({ data }, { tx, log }) => {
  // One server-side call, sent with the commit: a new order is recorded; a copy already here, or
  // a later version of an order not known yet, fails the commit and the event is acked or
  // redelivered accordingly.
  await recordOrder(tx, { id: data.id, userId: data.userId, priceCents: data.ticket.price, status: data.status, version: data.version });
  log.info({ orderId: data.id }, "order recorded");
});
