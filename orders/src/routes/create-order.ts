import type { Request, Response } from "express";
import { BadRequestError, isUniqueViolation, NotFoundError, publishEvent, userOf, validate, isUuid } from "@ticketforge/common";
import { createOrderBody } from "@ticketforge/common/api";
import type { OrdersContext } from "../app";
import { findTicket } from "../db/tickets";
import { countLiveOrdersOf, insertOrderUnderCap, lockBuyer } from "../db/orders";
import { toOrderJson } from "../order-json";

/** Reserves a ticket for the signed-in buyer for the expiration window. */
export const createOrder = (ctx: OrdersContext) => async (req: Request, res: Response) => {
  const { ticketId } = validate(createOrderBody, req.body);
  const user = userOf(req);
  const ticket = isUuid(ticketId) ? await findTicket(ctx.db, ticketId) : undefined;
  if (!ticket) throw new NotFoundError("Ticket not found");
  if (ticket.user_id === user.id) throw new BadRequestError("You cannot buy your own ticket");

  const expiresAt = new Date(Date.now() + ctx.config.EXPIRATION_WINDOW_SECONDS * 1000);
  let order;
  try {
    order = await ctx.relay.transaction(async (tx) => {
      await lockBuyer(tx, user.id);
      // no check for a live order of the ticket first: the partial unique index refuses a second one atomically
      const placed = await insertOrderUnderCap(
        tx,
        { userId: user.id, ticketId: ticket.id, ticketTitle: ticket.title, priceCents: ticket.price_cents, expiresAt },
        ctx.config.ORDERS_MAX_LIVE_PER_BUYER,
      );
      if (!placed) {
        const live = await countLiveOrdersOf(tx, user.id);
        throw new BadRequestError(`You already hold ${live} unpaid orders, the most one buyer may hold; pay or cancel one first`);
      }
      await publishEvent(tx, "order.created", {
        id: placed.id,
        status: "created",
        userId: user.id,
        expiresAt: expiresAt.toISOString(),
        version: 0,
        ticket: { id: ticket.id, price: ticket.price_cents },
      });
      return placed;
    });
  } catch (err) {
    if (isUniqueViolation(err, "orders_ticket_live_unique")) throw new BadRequestError("Ticket is already reserved");
    throw err;
  }
  ctx.log.info({ orderId: order.id, ticketId: ticket.id }, "order created");
  res.status(201).json(toOrderJson(order));
};
