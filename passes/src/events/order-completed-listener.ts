import { listener, RetryLater } from "@ticketforge/common";
import type { PassesTables } from "../db/tables";
import { findOrder } from "../db/replicas";
import { issuePass } from "../db/passes";
import { passMail } from "../mails";

/**
 * An order was paid: its buyer gets a pass for the door, and a mail with the receipt (never a
 * code: the code rotates, the mail links to the web app). Exactly one pass per order, however
 * often the event comes (passes_one_per_order).
 */
export const orderCompletedListener = listener<"order.completed", PassesTables>({
  subject: "order.completed",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    const order = await findOrder(uow.db, data.id);
    // order.created and ticket.created travel on other consumers: they may not have arrived yet
    if (!order) throw new RetryLater(`order ${data.id} not known yet`);
    if (order.title === null) throw new RetryLater(`ticket ${order.ticket_id} of order ${data.id} not known yet`);
    const issued = await issuePass(uow.db, { orderId: data.id, ticketId: order.ticket_id, ownerId: order.buyer_id });
    if (!issued) {
      uow.log.info({ orderId: data.id }, "pass already issued for this order");
      return;
    }
    uow.publish("pass.issued", {
      id: issued.id,
      ticketId: order.ticket_id,
      orderId: data.id,
      ownerId: order.buyer_id,
      transferredFrom: null,
    });
    passMail(uow, { kind: "bought", toUserId: order.buyer_id, title: order.title, orderId: data.id });
    uow.log.info({ orderId: data.id, passId: issued.id }, "pass issued");
  },
});
