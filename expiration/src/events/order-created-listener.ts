import { listener } from "@ticketforge/common";
import { insertTimer } from "../db/timers";
import type { ExpirationTables } from "../db/tables";

/**
 * A new order starts its reservation timer. The version check also keeps a late copy of
 * order.created (version 0) from starting a timer again once the order was cancelled or paid.
 */
export const orderCreatedListener = listener<"order.created", ExpirationTables>({
  subject: "order.created",
  orderedBy: (event) => event.data.id,
  async handle({ data: order }, uow) {
    uow.applyNextVersion("order", order.id, order.version);
    insertTimer(uow, order.id, order.expiresAt);
    uow.log.info({ orderId: order.id, expiresAt: order.expiresAt }, "reservation timer started");
  },
});
