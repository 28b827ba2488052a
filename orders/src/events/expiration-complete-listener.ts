import { listener } from "@ticketforge/common";
import { findOrder } from "../db/orders";
import { cancelLiveOrder } from "../lifecycle";
import { unknownOrder } from "./unknown-order";

/**
 * The reservation window ran out. Only an order still waiting for its payment is cancelled; a
 * paid or already cancelled one stays as it is (the timer cannot know it was settled).
 */
export const expirationComplete = listener("expiration.complete", async ({ data }, { tx, log }) => {
  if (await cancelLiveOrder(tx, data.orderId)) {
    log.info({ orderId: data.orderId }, "order expired and cancelled");
    return;
  }
  const order = await findOrder(tx, data.orderId);
  if (!order) throw unknownOrder(data.orderId);
  log.info({ orderId: data.orderId, status: order.status }, "order already settled; expiry ignored");
});
