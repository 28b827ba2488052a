import { listener } from "@ticketforge/common";
import { applyTicketUpdate } from "../db/tickets";

/** The seller edited the ticket, or the tickets service reserved, released or sold it. */
export const ticketUpdated = listener("ticket.updated", async ({ data }, { tx, log }) => {
  // One server-side call, sent with the commit: the replica at the version before this one moves
  // on; an old version, an early one, or a ticket not known yet (an update can overtake its
  // ticket's creation) fails the commit, and the event is acked or redelivered accordingly.
  await applyTicketUpdate(tx, data);
  log.info({ ticketId: data.id, version: data.version }, "ticket updated");
});
