import { checkNextVersion, listener } from "@ticketforge/common";
import { insertOrder, lockOrder } from "../db/orders";

/** Keeps a copy of each new order: who may pay it, and the price to charge (never the buyer's word). */
export const orderCreatedListener = listener("order.created", async ({ data }, { tx, log }) => {
  const known = await lockOrder(tx, data.id);
  checkNextVersion(known?.version, data.version, `order ${data.id}`);
  await insertOrder(tx, { id: data.id, userId: data.userId, priceCents: data.ticket.price, status: data.status, version: data.version });
  log.info({ orderId: data.id }, "order recorded");
});
