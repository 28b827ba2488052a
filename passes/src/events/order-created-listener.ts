import { listener } from "@ticketforge/common";
import type { PassesTables } from "../db/tables";
import { recordOrder } from "../db/replicas";

/** Who ordered which ticket: order.completed, which issues the pass, names neither. */
export const orderCreatedListener = listener<"order.created", PassesTables>({
  subject: "order.created",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    recordOrder(uow, data);
    uow.log.info({ orderId: data.id, ticketId: data.ticket.id }, "order recorded");
  },
});
