import { listener, RetryLater } from "@ticketforge/common";
import type { PassesTables } from "../db/tables";
import { findBuyer, findTicketTitle, recordOrder } from "../db/replicas";
import { issuePass } from "../db/passes";
import { passMail } from "../mails";

/**
 * An order was paid: its buyer gets a pass for the door, and a mail with the receipt (never a
 * code: the code rotates, the mail links to the web app). Exactly one pass per order, however
 * often the event comes (passes_one_per_order). The event names the buyer, so passes follows no
 * order until it is paid (docs/events.md).
 */
export const orderCompletedListener = listener<"order.completed", PassesTables>({
  subject: "order.completed",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    // a message published before order.completed named the buyer: the one recorded from its order.created
    const buyerId = data.userId ?? (await findBuyer(uow.db, data.id));
    if (!buyerId) throw new RetryLater(`order ${data.id} names no buyer, and none was recorded for it`);
    // ticket.created travels on another consumer: it may not have arrived yet
    const title = await findTicketTitle(uow.db, data.ticket.id);
    if (title === undefined) throw new RetryLater(`ticket ${data.ticket.id} of order ${data.id} not known yet`);
    recordOrder(uow, { id: data.id, buyerId, ticketId: data.ticket.id });
    const issued = await issuePass(uow.db, { orderId: data.id, ticketId: data.ticket.id, ownerId: buyerId });
    if (!issued) {
      uow.log.info({ orderId: data.id }, "pass already issued for this order");
      return;
    }
    uow.publish("pass.issued", {
      id: issued.id,
      ticketId: data.ticket.id,
      orderId: data.id,
      ownerId: buyerId,
      transferredFrom: null,
    });
    passMail(uow, { kind: "bought", toUserId: buyerId, title, orderId: data.id });
    uow.log.info({ orderId: data.id, passId: issued.id }, "pass issued");
  },
});
