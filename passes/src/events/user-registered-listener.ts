import { listener } from "@ticketforge/common";
import type { PassesTables } from "../db/tables";
import { recordUser } from "../db/replicas";

/**
 * Someone signed up: a transfer may now name them by email, and their mails have an address.
 * Users who signed up before auth published this event are not known here (docs/design.md §4).
 */
export const userRegisteredListener = listener<"user.registered", PassesTables>({
  subject: "user.registered",
  async handle({ data }, uow) {
    recordUser(uow, data);
    uow.log.info({ userId: data.id }, "user recorded");
  },
});
