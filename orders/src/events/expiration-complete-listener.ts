import { listener } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { findOrder } from "../db/orders";
import { cancelLiveOrder, unknownOrder } from "../lifecycle";

/**
 * The reservation window ran out. Only an order still waiting for its payment is cancelled; a
 * paid or already cancelled one stays as it is (the timer cannot know it was settled).
 */
export const expirationCompleteListener = listener<"expiration.complete", OrdersTables>({
  subject: "expiration.complete",
  // an expiry and a payment of one order must not be decided at once
  orderedBy: (event) => event.data.orderId,
  async handle({ data }, uow) {
    if (await cancelLiveOrder(uow, data.orderId, { reason: "expired" })) {
      uow.log.info({ orderId: data.orderId }, "order expired and cancelled");
      return;
    }
    const order = await findOrder(uow.db, data.orderId);
    if (!order) throw unknownOrder(data.orderId);
    uow.log.info({ orderId: data.orderId, status: order.status }, "order already settled; expiry ignored");
  },
});
