import { AlreadyApplied, checkNextVersion, listener } from "@ticketforge/common";
import type { OrdersTables } from "../db/tables";
import { findTicketForUpdate, insertTicket } from "../db/tickets";

/** A new ticket: from now on it can be ordered. */
export const ticketCreatedListener = listener<"ticket.created", OrdersTables>({
  subject: "ticket.created",
  // a ticket's creation and its updates apply in version order
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    const replica = await findTicketForUpdate(uow.db, data.id);
    checkNextVersion(replica?.version, data.version, `ticket ${data.id}`);
    // another replica of this service may have inserted it since the read above
    if (!(await insertTicket(uow.db, data))) throw new AlreadyApplied(`ticket ${data.id} already known`);
    uow.log.info({ ticketId: data.id }, "ticket added");
  },
});
