import type { Request, Response } from "express";
import { NotFoundError, sessionUserIf } from "@ticketforge/common";
import type { TicketsContext } from "../app";
import { findTicket } from "../db/tickets";
import { ticketJson } from "../ticket-json";

export const showTicket = (ctx: TicketsContext) => async (req: Request<{ id: string }>, res: Response) => {
  const ticket = await findTicket(ctx.db, req.params.id);
  if (!ticket) throw new NotFoundError("Ticket not found");
  // a seller sees more of their own ticket: the session is checked only when the cookie claims to be its seller's
  const viewer = await sessionUserIf(req, (id) => id === ticket.user_id);
  res.status(200).json(ticketJson(ticket, viewer?.id));
};
