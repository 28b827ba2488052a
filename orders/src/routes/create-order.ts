import type { Request, Response } from "express";
import { BadRequestError, isUniqueViolation, NotFoundError, publishEvent, userOf, validate, isUuid, type Tx } from "@ticketforge/common";
import { createOrderBody } from "@ticketforge/common/api";
import type { OrdersContext } from "../app";
import { findTicket } from "../db/tickets";
import { countLiveOrdersOf, insertOrderUnderCap, lockBuyer } from "../db/orders";
import { toOrderJson } from "../order-json";

/** Reserves a ticket for the signed-in buyer for the expiration window. */
export const createOrder = (ctx: OrdersContext) => async (req: Request, res: Response) => {
  const { ticketId } = validate(createOrderBody, req.body);
  const user = userOf(req);
  if (!isUuid(ticketId)) throw new NotFoundError("Ticket not found");

  const expiresAt = new Date(Date.now() + ctx.config.EXPIRATION_WINDOW_SECONDS * 1000);
  let order;
  try {
    order = await ctx.relay.transaction(async (tx) => {
      await lockBuyer(tx, user.id);
      // The usual case in one statement: the ticket is read from the replica and the order placed
      // under the buyer's cap. No check for a live order of the ticket first: the partial unique
      // index refuses a second one atomically.
      const placed = await insertOrderUnderCap(tx, { userId: user.id, ticketId, expiresAt }, ctx.config.ORDERS_MAX_LIVE_PER_BUYER);
      if (!placed) return whyNotPlaced(tx, user.id, ticketId, ctx.config.ORDERS_MAX_LIVE_PER_BUYER);
      await publishEvent(tx, "order.created", {
        id: placed.id,
        status: "created",
        userId: user.id,
        expiresAt: expiresAt.toISOString(),
        version: 0,
        ticket: { id: placed.ticket_id, price: placed.price_cents },
      });
      return placed;
    });
  } catch (err) {
    if (isUniqueViolation(err, "orders_ticket_live_unique")) throw new BadRequestError("Ticket is already reserved");
    throw err;
  }
  ctx.log.info({ orderId: order.id, ticketId }, "order created");
  res.status(201).json(toOrderJson(order));
};

/**
 * Tells why no order was placed: an unknown ticket, the buyer's own, or the buyer's cap. A ticket
 * whose ticket.created reached this replica only after the insert looked for it (the buyer was
 * quicker than the event) was not found at the time: a 404, as it would have been a moment before.
 */
async function whyNotPlaced(tx: Tx, userId: string, ticketId: string, maxLive: number): Promise<never> {
  const ticket = await findTicket(tx, ticketId);
  if (!ticket) throw new NotFoundError("Ticket not found");
  if (ticket.user_id === userId) throw new BadRequestError("You cannot buy your own ticket");
  const live = await countLiveOrdersOf(tx, userId);
  if (live < maxLive) throw new NotFoundError("Ticket not found");
  throw new BadRequestError(`You already hold ${live} unpaid orders, the most one buyer may hold; pay or cancel one first`);
}
