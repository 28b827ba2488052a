import type { Request, Response } from "express";
import { toCents, userOf, validate } from "@ticketforge/common";
import { ticketInput } from "@ticketforge/common/api";
import type { TicketsContext } from "../app";
import { insertTicket } from "../db/tickets";
import { publishTicketCreated } from "../ticket-events";
import { ticketJson } from "../ticket-json";

export const createTicket = (ctx: TicketsContext) => async (req: Request, res: Response) => {
  const { title, price } = validate(ticketInput, req.body);
  const user = userOf(req);
  const ticket = await ctx.work(async (uow) => {
    const row = await insertTicket(uow.db, { title, priceCents: toCents(price), userId: user.id });
    publishTicketCreated(uow, row);
    return row;
  });
  ctx.log.info({ ticketId: ticket.id, userId: user.id }, "ticket created");
  res.status(201).json(ticketJson(ticket, user.id));
};
