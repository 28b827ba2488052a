import type { Request, Response } from "express";
import { NotAuthorizedError, RequestValidationError, validate } from "@ticketforge/common";
import { listTicketsQuery } from "@ticketforge/common/api";
import type { TicketsContext } from "../app";
import { ticketPage } from "../db/tickets";
import { decodeCursor, encodeCursor } from "../db/cursor";
import { ticketJson } from "../ticket-json";

const defaultLimit = 20;

/**
 * GET /api/tickets: the tickets that can be bought, newest first, one page at a time; with
 * `mine=true` the signed-in seller's own tickets whatever their status. The next page's
 * cursor is in the X-Next-Cursor header, absent on the last page.
 */
export const listTickets = (ctx: TicketsContext) => async (req: Request, res: Response) => {
  const query = validate(listTicketsQuery, req.query);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && !after) throw new RequestValidationError([{ field: "cursor", message: "Cursor is not valid" }]);
  let userId: string | undefined;
  if (query.mine === "true") {
    if (!req.currentUser) throw new NotAuthorizedError();
    userId = req.currentUser.id;
  }
  const limit = query.limit ?? defaultLimit;
  // one row more than asked tells whether another page exists
  const rows = await ticketPage(ctx.db, { userId, search: query.q || undefined, after, limit: limit + 1 });
  const page = rows.slice(0, limit);
  if (rows.length > limit) res.setHeader("X-Next-Cursor", encodeCursor(page[page.length - 1]));
  res.status(200).json(page.map((row) => ticketJson(row, req.currentUser?.id)));
};
