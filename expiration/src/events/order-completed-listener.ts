import { listener } from "@ticketforge/common";
import { deleteTimer } from "../db/timers";
import type { ExpirationTables } from "../db/tables";

/** A paid order must never expire: its timer goes. Early arrivals wait as for order.cancelled. */
export const orderCompletedListener = listener<"order.completed", ExpirationTables>({
  subject: "order.completed",
  orderedBy: (event) => event.data.id,
  async handle({ data: order }, uow) {
    uow.applyNextVersion("order", order.id, order.version);
    const removed = await deleteTimer(uow.db, order.id);
    uow.log.info({ orderId: order.id, removed }, "order paid; reservation timer stopped");
  },
});
