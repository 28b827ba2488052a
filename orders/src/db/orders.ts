import { sql, type Queryable, type RawBuilder } from "@ticketforge/common";
import type { CancelReason, OrdersWork } from "./tables";

export type OrderStatus = "created" | "awaiting:payment" | "complete" | "cancelled";

/** An order with the title of its ticket, as every route shows it. */
export interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  expires_at: Date | string;
  version: number;
  price_cents: number;
  refund_amount_cents: number | null;
  refunded_at: Date | string | null;
  cancel_reason: CancelReason | null;
  changed_ticket_price_cents: number | null;
  ticket_id: string;
  ticket_title: string;
}

const orderColumns = sql`o.id, o.user_id, o.status, o.expires_at, o.version, o.price_cents,
  o.refund_amount_cents, o.refunded_at, o.cancel_reason, o.changed_ticket_price_cents, o.ticket_id, t.title as ticket_title`;

/** A newly placed order, with the replica's version of its ticket that priced it (sent in order.created). */
export interface PlacedOrderRow extends OrderRow {
  ticket_version: number;
}

/**
 * Places a new live order for a ticket of the replica, at its price, in one statement; undefined
 * when it places none: the ticket is not known or is the buyer's own, the buyer already holds
 * `maxLive` live orders, `allowed` is false (a rate limit), another transaction is placing an
 * order for the same ticket right now (`orderingTicket`), or the ticket has a live order already
 * (the partial unique index decides that race; the statement then does nothing rather than fail,
 * so that the transaction can still commit what it counted). `refusal` tells which. Call it after
 * `lockBuyer` in the same transaction: the count is taken by this statement, after the lock, so
 * it sees every order committed before it.
 */
export async function placeOrder(
  db: Queryable,
  order: { userId: string; ticketId: string; expiresAt: Date },
  limits: { maxLive: number; allowed: RawBuilder<boolean>; reholdAfterSeconds: number },
): Promise<PlacedOrderRow | undefined> {
  const r = await sql<PlacedOrderRow>`with ticket as (
      select id, title, price_cents, version from tickets where id = ${order.ticketId} and user_id <> ${order.userId}
        and ${orderingTicket(order.ticketId)}
    )
    insert into orders (user_id, ticket_id, status, expires_at, version, price_cents)
    select ${order.userId}, ticket.id, 'created', ${order.expiresAt.toISOString()}, 0, ticket.price_cents from ticket
    where ${limits.allowed} and (${liveOrdersOf(order.userId)}) < ${limits.maxLive}
      and (${recentHold(order, limits.reholdAfterSeconds)}) is null
    on conflict (ticket_id) where status in ('created', 'awaiting:payment') do nothing
    returning id, user_id, status, expires_at, version, price_cents, refund_amount_cents, refunded_at, cancel_reason,
      changed_ticket_price_cents, ticket_id,
      (select title from ticket) as ticket_title, (select version from ticket) as ticket_version`.execute(db);
  return r.rows[0];
}

/**
 * Why `placeOrder` placed nothing, read in the same transaction, in the order a buyer is told.
 * "unexplained": nothing stands in the way any more. This read sees what was committed after the
 * insert looked (the ticket's ticket.created applied to the replica, the order holding the ticket
 * ended), so the insert may simply be tried again.
 */
export type Refusal =
  "rate limited" | "no ticket" | "own ticket" | "too many live orders" | "cooling down" | "ticket taken" | "unexplained";

/**
 * Seconds until this buyer may hold this ticket again after a hold of theirs ended unpaid, or
 * null: a hold's start plus the expiration window and the cool-down (created_at: no column says
 * when an order was cancelled, and a hold never lasts longer than the window). An order cancelled
 * because tickets refused its reservation (the seller changed the ticket) held nothing, and its
 * buyer is told to order again at the new price: it does not count. Read from the
 * orders_cancelled_holds index: the buyer's few cancelled orders of this ticket, whatever their
 * history.
 */
export function recentHold(order: { userId: string; ticketId: string }, reholdAfterSeconds: number) {
  return sql<number | null>`select ceil(extract(epoch from max(created_at) + make_interval(secs => ${reholdAfterSeconds}) - now()))::int
    from orders where user_id = ${order.userId} and ticket_id = ${order.ticketId} and status = 'cancelled'
      and cancel_reason is distinct from 'ticket changed'
    having max(created_at) + make_interval(secs => ${reholdAfterSeconds}) > now()`;
}

export async function refusal(
  db: Queryable,
  order: { userId: string; ticketId: string },
  limits: { maxLive: number; allowed: RawBuilder<boolean>; reholdAfterSeconds: number },
): Promise<{ reason: Refusal; live: number; waitSeconds?: number }> {
  const r = await sql<{
    allowed: boolean;
    seller: string | null;
    live: number;
    taken: boolean;
    wait: number | null;
    busy: boolean;
  }>`select ${limits.allowed} as allowed,
      (select user_id from tickets where id = ${order.ticketId}) as seller,
      (${liveOrdersOf(order.userId)}) as live,
      (${recentHold(order, limits.reholdAfterSeconds)}) as wait,
      exists (select 1 from orders where ticket_id = ${order.ticketId} and status in ('created', 'awaiting:payment')) as taken,
      not ${orderingTicket(order.ticketId)} as busy`.execute(db);
  const { allowed, seller, live, taken, wait, busy } = r.rows[0];
  const reason: Refusal = !allowed
    ? "rate limited"
    : seller === null
      ? "no ticket"
      : seller === order.userId
        ? "own ticket"
        : live >= limits.maxLive
          ? "too many live orders"
          : wait !== null
            ? "cooling down"
            : taken || busy
              ? "ticket taken"
              : "unexplained";
  return { reason, live, waitSeconds: wait ?? undefined };
}

export async function findOrder(db: Queryable, id: string): Promise<OrderRow | undefined> {
  const r = await sql<OrderRow>`select ${orderColumns} from orders o join tickets t on t.id = o.ticket_id
    where o.id = ${id}`.execute(db);
  return r.rows[0];
}

/**
 * Takes the buyer's lock until the transaction ends (an advisory lock on the user id: the same
 * for every replica), so that one buyer's orders are placed one at a time and two at once
 * cannot both pass the cap.
 */
export function lockBuyer(uow: OrdersWork, userId: string): void {
  // nobody reads the answer: the lock is taken in the same round trip as the next statement
  uow.send(sql`select pg_advisory_xact_lock(hashtextextended(${`orders-live:${userId}`}, 0))`);
}

/**
 * Takes the ticket's lock until the transaction ends, if nobody holds it; false when another
 * transaction is placing an order for the same ticket right now. It never waits. Without it, the
 * second insert for a ticket waited on the partial unique index for the first one's commit, then
 * did nothing: in a crowd, the buyers who lost a race each held one of the pool's connections
 * while they waited, and everyone behind them in the pool's queue waited too. The index still
 * decides every race; this only tells the losers at once. (Should the first transaction roll
 * back, the ticket stays available and the refused buyer may order it again.)
 */
function orderingTicket(ticketId: string) {
  return sql<boolean>`pg_try_advisory_xact_lock(hashtextextended(${`orders-ticket:${ticketId}`}, 0))`;
}

/** True while the ticket has a live order: the partial unique index's own condition. */
export function ticketTaken(ticketId: string) {
  return sql<boolean>`exists (select 1 from orders where ticket_id = ${ticketId} and status in ('created', 'awaiting:payment'))`;
}

/** The number of live orders a buyer holds (read from the orders_user_live index: a handful of entries, whatever their history). */
export function liveOrdersOf(userId: string) {
  return sql<number>`select count(*)::int from orders where user_id = ${userId} and status in ('created', 'awaiting:payment')`;
}

/** A user's orders, newest first. */
export async function findOrdersOf(db: Queryable, userId: string): Promise<OrderRow[]> {
  const r = await sql<OrderRow>`select ${orderColumns} from orders o join tickets t on t.id = o.ticket_id
    where o.user_id = ${userId} order by o.created_at desc, o.id desc`.execute(db);
  return r.rows;
}

/**
 * Cancels a live order (created / awaiting:payment) in one statement, keeping why, so that of two
 * racing changes (a cancel and a payment, two cancels) exactly one wins. Returns the new version
 * and the ticket, or undefined when the order was not live.
 */
export async function cancelLive(
  db: Queryable,
  id: string,
  why: { reason: CancelReason; ticketPriceCents?: number },
): Promise<{ version: number; ticket_id: string } | undefined> {
  const r = await sql<{ version: number; ticket_id: string }>`update orders
    set status = 'cancelled', version = version + 1, cancel_reason = ${why.reason},
      changed_ticket_price_cents = ${why.ticketPriceCents ?? null}
    where id = ${id} and status in ('created', 'awaiting:payment')
    returning version, ticket_id`.execute(db);
  return r.rows[0];
}

/**
 * Completes a live order whose ticket tickets has reserved for it (the replica's holder names it:
 * docs/design.md §4 rule 6), in one statement; undefined when the order is not live, or its
 * reservation has not been confirmed (yet, or ever: refused). `isLive` on a fresh read tells which.
 */
export async function completeLive(
  db: Queryable,
  id: string,
  paymentId: string,
): Promise<{ version: number; ticket_id: string; user_id: string } | undefined> {
  const r = await sql<{ version: number; ticket_id: string; user_id: string }>`update orders o
    set status = 'complete', version = o.version + 1, payment_id = ${paymentId}
    where o.id = ${id} and o.status in ('created', 'awaiting:payment')
      and exists (select 1 from tickets t where t.id = o.ticket_id and t.order_id = ${id}::text)
    returning o.version, o.ticket_id, o.user_id`.execute(db);
  return r.rows[0];
}

export function isLive(status: OrderStatus): boolean {
  return status === "created" || status === "awaiting:payment";
}

/** Records a refund on an order; returns false when the order is unknown. */
export async function recordRefund(db: Queryable, id: string, amountCents: number, refundedAt: string): Promise<boolean> {
  const r = await sql`update orders set refund_amount_cents = ${amountCents}, refunded_at = ${refundedAt}
    where id = ${id} returning id`.execute(db);
  return r.rows.length > 0;
}
