import { listener } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { applyTicketUpdate } from "../db/tickets";

/**
 * The seller edited the ticket, or the tickets service reserved, released or sold it. The replica
 * keeps which order tickets holds it for: a payment completes an order only once it names that
 * order (docs/design.md §4 rule 6).
 */
export const ticketUpdatedListener = listener<"ticket.updated", OrdersTables>({
  subject: "ticket.updated",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    // One server-side call, sent with the commit: the replica at the version before this one
    // moves on; an old version, an early one, or a ticket not known yet (an update can overtake
    // its ticket's creation) fails the work, and the event is acked or redelivered accordingly.
    applyTicketUpdate(uow, data);
    uow.log.info({ ticketId: data.id, version: data.version }, "ticket updated");
  },
});
