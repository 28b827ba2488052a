import type { Request, Response } from "express";
import { NotFoundError } from "@ticketforge/common";
import type { TicketsContext } from "../app";
import { findTicket } from "../db/tickets";
import { ticketJson } from "../ticket-json";

export const showTicket = (ctx: TicketsContext) => async (req: Request<{ id: string }>, res: Response) => {
  const ticket = await findTicket(ctx.db, req.params.id);
  if (!ticket) throw new NotFoundError("Ticket not found");
  res.status(200).json(ticketJson(ticket, req.currentUser?.id));
};
