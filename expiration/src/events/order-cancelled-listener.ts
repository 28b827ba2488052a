import { listener } from "@ticketforge/common";
import { deleteTimer } from "../db/timers";
import type { ExpirationTables } from "../db/tables";

/**
 * A cancelled order needs no expiry. A cancellation that arrives before its order.created is
 * retried (RetryLater from the version check) until the creation has been applied, so the timer
 * that creation starts is removed too.
 */
export const orderCancelledListener = listener<"order.cancelled", ExpirationTables>({
  subject: "order.cancelled",
  orderedBy: (event) => event.data.id,
  async handle({ data: order }, uow) {
    uow.applyNextVersion("order", order.id, order.version);
    const removed = await deleteTimer(uow.db, order.id);
    uow.log.info({ orderId: order.id, removed }, "order cancelled; reservation timer stopped");
  },
});
