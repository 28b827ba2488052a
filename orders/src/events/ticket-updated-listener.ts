import { checkNextVersion, listener, RetryLater } from "@ticketforge/common";
import { applyTicketUpdate, findTicketForUpdate } from "../db/tickets";

/** The seller edited the ticket, or the tickets service reserved, released or sold it. */
export const ticketUpdated = listener("ticket.updated", async ({ data }, { tx, log }) => {
  // the usual case in one statement: the replica is at the version before this one
  if (!(await applyTicketUpdate(tx, data))) {
    const replica = await findTicketForUpdate(tx, data.id);
    // an update can overtake the creation of its ticket: wait for ticket.created
    if (!replica) throw new RetryLater(`ticket ${data.id} not known yet`);
    checkNextVersion(replica.version, data.version, `ticket ${data.id}`);
    // the version before this one arrived between the two statements: apply it now
    await applyTicketUpdate(tx, data);
  }
  log.info({ ticketId: data.id, version: data.version }, "ticket updated");
});
