import { listener } from "@ticketforge/common";
import type { PassesTables } from "../db/tables";
import { applyTicketUpdate } from "../db/replicas";

/** The seller edited the ticket, or it was reserved, released or sold: the replica follows, version by version. */
export const ticketUpdatedListener = listener<"ticket.updated", PassesTables>({
  subject: "ticket.updated",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    // sent with the commit; an old, early or not-yet-known ticket fails the work as TF001 / TF002
    applyTicketUpdate(uow, data);
    uow.log.info({ ticketId: data.id, version: data.version }, "ticket updated");
  },
});
