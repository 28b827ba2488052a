import { sql, type Queryable, isUuid } from "@ticketforge/common";

export type TicketStatus = "available" | "reserved" | "sold";

export interface TicketRow {
  id: string;
  title: string;
  price_cents: number;
  user_id: string;
  status: TicketStatus;
  order_id: string | null;
  version: number;
  /** The version the seller's last edit gave it (0: never edited): an order priced at an older one saw an older title or price. */
  edited_version: number;
}

/** A row of a listing, with its position for the next page's cursor. */
export interface ListedTicketRow extends TicketRow {
  /** created_at in UTC with microseconds: a JavaScript Date would drop them and skip rows. */
  position_at: string;
}

const columns = sql`id, title, price_cents, user_id, status, order_id, version, edited_version`;

export async function insertTicket(db: Queryable, ticket: { title: string; priceCents: number; userId: string }): Promise<TicketRow> {
  const r = await sql<TicketRow>`insert into tickets (title, price_cents, user_id)
    values (${ticket.title}, ${ticket.priceCents}, ${ticket.userId}) returning ${columns}`.execute(db);
  return r.rows[0];
}

export async function findTicket(db: Queryable, id: string): Promise<TicketRow | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<TicketRow>`select ${columns} from tickets where id = ${id}`.execute(db);
  return r.rows[0];
}

/** Reads a ticket and locks it until the transaction ends, so a decision made on it stays true. */
export async function lockTicket(db: Queryable, id: string): Promise<TicketRow | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<TicketRow>`select ${columns} from tickets where id = ${id} for update`.execute(db);
  return r.rows[0];
}

export async function updateTicketDetails(db: Queryable, id: string, title: string, priceCents: number): Promise<TicketRow> {
  const r = await sql<TicketRow>`update tickets
    set title = ${title}, price_cents = ${priceCents}, version = version + 1, edited_version = version + 1
    where id = ${id} returning ${columns}`.execute(db);
  return r.rows[0];
}

/** What an order was priced at: the ticket's version then (absent from order.created of earlier releases) and its price. */
export interface PricedAt {
  version?: number;
  price: number;
}

/**
 * True when the seller edited the ticket after the order was priced (docs/design.md §4 rule 6).
 * Without the version (an order.created of an earlier release) the price decides.
 */
export function changedSince(ticket: TicketRow, pricedAt: PricedAt): boolean {
  return pricedAt.version === undefined ? ticket.price_cents !== pricedAt.price : ticket.edited_version > pricedAt.version;
}

/**
 * Reserves the ticket for the order if it is available and unchanged since the order was priced
 * (the SQL twin of `changedSince`); undefined when it is not (or unknown).
 */
export async function reserveTicket(db: Queryable, id: string, orderId: string, pricedAt: PricedAt): Promise<TicketRow | undefined> {
  if (!isUuid(id)) return undefined;
  const unchanged = pricedAt.version === undefined ? sql`price_cents = ${pricedAt.price}` : sql`edited_version <= ${pricedAt.version}`;
  const r = await sql<TicketRow>`update tickets set status = 'reserved', order_id = ${orderId}, version = version + 1
    where id = ${id} and status = 'available' and ${unchanged} returning ${columns}`.execute(db);
  return r.rows[0];
}

/** Frees the ticket only if this very order holds it (docs/design.md §4 rule 4); undefined when it does not. */
export async function releaseTicket(db: Queryable, id: string, orderId: string): Promise<TicketRow | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<TicketRow>`update tickets set status = 'available', order_id = null, version = version + 1
    where id = ${id} and order_id = ${orderId} and status = 'reserved' returning ${columns}`.execute(db);
  return r.rows[0];
}

/** Marks the ticket sold only if this very order holds it; undefined when it does not. */
export async function sellTicket(db: Queryable, id: string, orderId: string): Promise<TicketRow | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await sql<TicketRow>`update tickets set status = 'sold', version = version + 1
    where id = ${id} and order_id = ${orderId} and status = 'reserved' returning ${columns}`.execute(db);
  return r.rows[0];
}

export interface PageRequest {
  /** Only this seller's tickets, whatever their status; otherwise the available tickets of everyone. */
  userId?: string;
  /** Case-insensitive part of the title. */
  search?: string;
  /** Position of the last row of the previous page. */
  after?: { at: string; id: string };
  limit: number;
}

/**
 * One page, newest first, by keyset: `(created_at, id) < (last row)` lets the index start right
 * where the previous page ended instead of skipping rows. The `status = 'available'` literal is
 * what lets the planner use the partial index. Exported so a test can EXPLAIN the very query.
 */
export function ticketPageQuery(page: PageRequest) {
  const owner = page.userId === undefined ? sql`status = 'available'` : sql`user_id = ${page.userId}`;
  const search = page.search ? sql`and title ilike ${`%${escapeLike(page.search)}%`} escape '\\'` : sql``;
  const after = page.after ? sql`and (created_at, id) < (${page.after.at}::timestamptz, ${page.after.id}::uuid)` : sql``;
  return sql<ListedTicketRow>`select ${columns},
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at
    from tickets
    where ${owner} ${search} ${after}
    order by created_at desc, id desc
    limit ${page.limit}`;
}

export async function ticketPage(db: Queryable, page: PageRequest): Promise<ListedTicketRow[]> {
  return (await ticketPageQuery(page).execute(db)).rows;
}

/** A user's "%" or "_" is a character to find, not a wildcard. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
