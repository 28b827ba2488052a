import type { Express } from "express";
import { requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { TicketsTables } from "./db/tables";
import { createTicket } from "./routes/create-ticket";
import { listTickets } from "./routes/list-tickets";
import { showTicket } from "./routes/show-ticket";
import { updateTicket } from "./routes/update-ticket";

export type TicketsContext = ServiceContext<ConfigOf<typeof settings>, TicketsTables>;

export function routes(app: Express, ctx: TicketsContext) {
  app.post("/api/tickets", requireAuth, createTicket(ctx));
  app.get("/api/tickets", listTickets(ctx));
  app.get("/api/tickets/:id", showTicket(ctx));
  app.put("/api/tickets/:id", requireAuth, updateTicket(ctx));
}
