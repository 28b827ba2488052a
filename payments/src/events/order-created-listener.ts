import { listener } from "@ticketforge/common";
import { recordOrder } from "../db/orders";
import type { PaymentsTables } from "../db/tables";

/** Keeps a copy of each new order: who may pay it, and the price to charge (never the buyer's word). */
export const orderCreatedListener = listener<"order.created", PaymentsTables>({
  subject: "order.created",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    // One server-side call, sent with the commit: a new order is recorded; a copy already here,
    // or a later version of an order not known yet, fails the work and the event is acked or
    // redelivered accordingly.
    recordOrder(uow, { id: data.id, userId: data.userId, priceCents: data.ticket.price, status: data.status, version: data.version });
    uow.log.info({ orderId: data.id }, "order recorded");
  },
});
