import type { Request, Response } from "express";
import { BadRequestError, NotAuthorizedError, NotFoundError, toCents, userOf, validate, isUuid } from "@ticketforge/common";
import { ticketInput } from "@ticketforge/common/api";
import type { TicketsContext } from "../app";
import { lockTicket, updateTicketDetails } from "../db/tickets";
import { publishTicketUpdated } from "../ticket-events";
import { ticketJson } from "../ticket-json";

export const updateTicket = (ctx: TicketsContext) => async (req: Request<{ id: string }>, res: Response) => {
  if (!isUuid(req.params.id)) throw new NotFoundError("Ticket not found");
  const { title, price } = validate(ticketInput, req.body);
  const user = userOf(req);
  // The row stays locked from the check to the write, so a reservation landing at the same
  // moment waits for this edit (or this edit sees the reservation): never a stale ticket.updated.
  const ticket = await ctx.work(async (uow) => {
    const current = await lockTicket(uow.db, req.params.id);
    if (!current) throw new NotFoundError("Ticket not found");
    if (current.user_id !== user.id) throw new NotAuthorizedError();
    if (current.status !== "available") throw new BadRequestError("Cannot edit a reserved ticket");
    const row = await updateTicketDetails(uow.db, current.id, title, toCents(price));
    publishTicketUpdated(uow, row);
    return row;
  });
  ctx.log.info({ ticketId: ticket.id, version: ticket.version }, "ticket edited");
  res.status(200).json(ticketJson(ticket, user.id));
};
