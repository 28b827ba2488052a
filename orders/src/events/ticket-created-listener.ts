import { AlreadyApplied, checkNextVersion, listener } from "@ticketforge/common";
import { findTicketForUpdate, insertTicket } from "../db/tickets";

/** A new ticket: from now on it can be ordered. */
export const ticketCreated = listener("ticket.created", async ({ data }, { tx, log }) => {
  const replica = await findTicketForUpdate(tx, data.id);
  checkNextVersion(replica?.version, data.version, `ticket ${data.id}`);
  // another replica of this service may have inserted it since the read above
  if (!(await insertTicket(tx, data))) throw new AlreadyApplied(`ticket ${data.id} already known`);
  log.info({ ticketId: data.id }, "ticket added");
});
