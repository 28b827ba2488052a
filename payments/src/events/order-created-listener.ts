import { checkNextVersion, listener } from "@ticketforge/common";
import { insertOrder, lockOrder } from "../db/orders";

/** Keeps a copy of each new order: who may pay it, and the price to charge (never the buyer's word). */
export const orderCreatedListener = listener("order.created", async ({ data }, { tx, log }) => {
  const order = { id: data.id, userId: data.userId, priceCents: data.ticket.price, status: data.status, version: data.version };
  // the usual case in one statement: a new order at its first version is inserted
  if (data.version !== 0 || !(await insertOrder(tx, order))) {
    const known = await lockOrder(tx, data.id);
    checkNextVersion(known?.version, data.version, `order ${data.id}`);
    await insertOrder(tx, order);
  }
  log.info({ orderId: data.id }, "order recorded");
});
