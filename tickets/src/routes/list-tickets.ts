import type { Request, Response } from "express";
import { NotAuthorizedError, RequestValidationError, sessionUser, sessionUserIf, validate } from "@ticketforge/common";
import { listTicketsQuery } from "@ticketforge/common/api";
import type { TicketsContext } from "../app";
import { ticketPage, type ListedTicketRow } from "../db/tickets";
import { decodeCursor, encodeCursor } from "../db/cursor";
import { ticketJson } from "../ticket-json";
import { ListingCache } from "../listing-cache";

const defaultLimit = 20;

/**
 * GET /api/tickets: the tickets that can be bought, newest first, one page at a time; with
 * `mine=true` the signed-in seller's own tickets whatever their status. The next page's
 * cursor is in the X-Next-Cursor header, absent on the last page. Pages of the public listing
 * without a search come from memory between changes (ListingCache); `Cache-Control: no-cache`
 * on the request asks for the database.
 */
export const listTickets = (ctx: TicketsContext) => {
  const pages = listingCache(ctx);
  const lookups = ctx.metrics.counter(
    "tf_tickets_listing_cache_total",
    "Public listing pages by where they came from: hit (memory), miss (the database, then kept), bypass (the database: cache off, not listening, or no-cache asked)",
    ["result"],
  );
  return async (req: Request, res: Response) => {
    const query = validate(listTicketsQuery, req.query);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new RequestValidationError([{ field: "cursor", message: "Cursor is not valid" }]);
    let userId: string | undefined;
    if (query.mine === "true") {
      const user = await sessionUser(req);
      if (!user) throw new NotAuthorizedError();
      userId = user.id;
    }
    const limit = query.limit ?? defaultLimit;
    // one row more than asked tells whether another page exists
    const load = async (): Promise<Page> => ({
      rows: await ticketPage(ctx.db, { userId, search: query.q || undefined, after, limit: limit + 1 }),
    });
    let page: Page;
    if (userId === undefined && !query.q) {
      const noCache = /\bno-cache\b/i.test(req.get("cache-control") ?? "");
      const found = noCache ? { value: await load(), result: "bypass" as const } : await pages.get(`${limit}/${query.cursor ?? ""}`, load);
      lookups.inc({ result: found.result });
      page = found.value;
    } else page = await load();
    // A seller sees more of their own tickets. A page without a row of the user the cookie claims
    // is the same for that user as for a visitor: rendered once per page, and no session check.
    const viewer = userId ?? (await sessionUserIf(req, (claimed) => page.rows.some((row) => row.user_id === claimed)))?.id;
    const shown = viewer === undefined ? (page.anonymous ??= render(page.rows, limit, undefined)) : render(page.rows, limit, viewer);
    if (shown.nextCursor) res.setHeader("X-Next-Cursor", shown.nextCursor);
    res.status(200).type("application/json").send(shown.body);
  };
};

/** A page's rows (and one more, when another page follows), and its JSON for visitors without a session. */
interface Page {
  rows: ListedTicketRow[];
  anonymous?: Rendered;
}

interface Rendered {
  body: string;
  nextCursor?: string;
}

function render(rows: ListedTicketRow[], limit: number, viewerId: string | undefined): Rendered {
  const shown = rows.slice(0, limit);
  return {
    body: JSON.stringify(shown.map((row) => ticketJson(row, viewerId))),
    nextCursor: rows.length > limit ? encodeCursor(shown[shown.length - 1]) : undefined,
  };
}

/**
 * This replica's cache of public listing pages: emptied by its own commits before their answer
 * goes out (read-your-writes), and by the `tickets_changed` notification of every commit that
 * touches the table, this replica's or another's.
 */
function listingCache(ctx: TicketsContext): ListingCache<Page> {
  const cache = new ListingCache<Page>({ maxAgeMs: ctx.config.TICKETS_LISTING_CACHE_MS });
  if (ctx.config.TICKETS_LISTING_CACHE_MS > 0) {
    ctx.onCommitted((events) => {
      if (events.some((e) => e.subject.startsWith("ticket."))) cache.changed();
    });
    ctx.notifications.watch("tickets_changed", cache);
  }
  return cache;
}
