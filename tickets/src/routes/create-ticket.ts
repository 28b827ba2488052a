import type { Request, Response } from "express";
import { toCents, userOf, validate } from "@ticketforge/common";
import { ticketInput } from "@ticketforge/common/api";
import type { TicketsContext } from "../app";
import { insertTicket } from "../db/tickets";
import { publishTicketCreated } from "../events/ticket-events";
import { ticketJson } from "../ticket-json";

export const createTicket = (ctx: TicketsContext) => async (req: Request, res: Response) => {
  const { title, price } = validate(ticketInput, req.body);
  const user = userOf(req);
  const ticket = await ctx.relay.transaction(async (tx) => {
    const row = await insertTicket(tx, { title, priceCents: toCents(price), userId: user.id });
    await publishTicketCreated(tx, row);
    return row;
  });
  ctx.log.info({ ticketId: ticket.id, userId: user.id }, "ticket created");
  res.status(201).json(ticketJson(ticket, user.id));
};
