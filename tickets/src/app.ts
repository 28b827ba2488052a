import type { Express } from "express";
import type { Request } from "express";
import { clientNetwork, rateLimit, requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { TicketsTables } from "./db/tables";
import { createTicket } from "./routes/create-ticket";
import { listTickets } from "./routes/list-tickets";
import { showTicket } from "./routes/show-ticket";
import { updateTicket } from "./routes/update-ticket";

export type TicketsContext = ServiceContext<ConfigOf<typeof settings>, TicketsTables>;

export function routes(app: Express, ctx: TicketsContext) {
  app.post("/api/tickets", requireAuth, createTicket(ctx));
  // searches only, counted before anything is read; the listing's pages come from a cache
  const searchesPerNetwork = rateLimit(ctx.db, {
    name: "tickets-search-network",
    limit: ctx.config.TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE,
    windowSeconds: 60,
    key: (req) => (isSearch(req) ? clientNetwork(req) : undefined),
    message: (s) => `Too many searches from your network, try again in ${s} seconds`,
  });
  app.get("/api/tickets", searchesPerNetwork, listTickets(ctx));
  app.get("/api/tickets/:id", showTicket(ctx));
  app.put("/api/tickets/:id", requireAuth, updateTicket(ctx));
}

/** A title search: `q` with something in it once trimmed, as the route reads it (listTicketsQuery). */
const isSearch = (req: Request) => typeof req.query.q === "string" && req.query.q.trim() !== "";
