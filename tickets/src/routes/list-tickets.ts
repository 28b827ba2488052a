import type { Request, Response } from "express";
import { z } from "zod";
import { NotAuthorizedError, plainText, validate } from "@ticketforge/common";
import type { TicketsContext } from "../app";
import { ticketPage } from "../db/tickets";
import { decodeCursor, encodeCursor } from "./cursor";
import { ticketJson } from "./ticket-json";

const defaultLimit = 20;
const maxLimit = 100;

// An empty parameter (`?q=`) means "not given"; a repeated one arrives as an array and is a 400.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

const listQuery = z.object({
  limit: optional(
    z
      .string({ message: `Limit must be a whole number between 1 and ${maxLimit}` })
      .regex(/^\d{1,3}$/, `Limit must be a whole number between 1 and ${maxLimit}`)
      .transform(Number)
      .refine((n) => n >= 1 && n <= maxLimit, `Limit must be a whole number between 1 and ${maxLimit}`),
  ),
  cursor: optional(
    z
      .string({ message: "Cursor is not valid" })
      .refine((c) => decodeCursor(c) !== undefined, "Cursor is not valid")
      .transform((c) => decodeCursor(c)!),
  ),
  q: optional(plainText("Search must be a string", "Search must not contain control characters").trim().max(200, "Search must be at most 200 characters")),
  mine: optional(z.enum(["true", "false"], { message: "Mine must be true or false" })),
});

/**
 * GET /api/tickets: the tickets that can be bought, newest first, one page at a time; with
 * `mine=true` the signed-in seller's own tickets whatever their status. The next page's
 * cursor is in the X-Next-Cursor header, absent on the last page.
 */
export const listTickets = (ctx: TicketsContext) => async (req: Request, res: Response) => {
  const query = validate(listQuery, req.query);
  let userId: string | undefined;
  if (query.mine === "true") {
    if (!req.currentUser) throw new NotAuthorizedError();
    userId = req.currentUser.id;
  }
  const limit = query.limit ?? defaultLimit;
  // one row more than asked tells whether another page exists
  const rows = await ticketPage(ctx.db, { userId, search: query.q || undefined, after: query.cursor, limit: limit + 1 });
  const page = rows.slice(0, limit);
  if (rows.length > limit) res.setHeader("X-Next-Cursor", encodeCursor(page[page.length - 1]));
  res.status(200).json(page.map((row) => ticketJson(row, req.currentUser?.id)));
};
