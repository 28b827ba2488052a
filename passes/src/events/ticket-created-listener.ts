import { AlreadyApplied, checkNextVersion, listener } from "@ticketforge/common";
import type { PassesTables } from "../db/tables";
import { findTicketVersionForUpdate, insertTicket } from "../db/replicas";

/** A new ticket: its title is shown on its passes, and its seller checks them in. */
export const ticketCreatedListener = listener<"ticket.created", PassesTables>({
  subject: "ticket.created",
  // a ticket's creation and its updates apply in version order
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    checkNextVersion(await findTicketVersionForUpdate(uow.db, data.id), data.version, `ticket ${data.id}`);
    // another replica of this service may have inserted it since the read above
    if (!(await insertTicket(uow.db, data))) throw new AlreadyApplied(`ticket ${data.id} already known`);
    uow.log.info({ ticketId: data.id }, "ticket added");
  },
});
