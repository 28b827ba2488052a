import type { Request, Response } from "express";
import { BadRequestError, isUniqueViolation, NotFoundError, publishEvent, userOf, validate, isUuid } from "@ticketforge/common";
import { createOrderBody } from "@ticketforge/common/api";
import type { OrdersContext } from "../app";
import { findTicket } from "../db/tickets";
import { findOrder, insertOrder, lockLiveOrdersOf } from "../db/orders";
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
      // one buyer's orders are placed one at a time, so two at once cannot both pass the cap
      const live = await lockLiveOrdersOf(tx, user.id);
      if (live >= ctx.config.ORDERS_MAX_LIVE_PER_BUYER) {
        throw new BadRequestError(
          `You already hold ${live} unpaid orders, the most one buyer may hold; pay or cancel one first`,
        );
      }
      // no check for a live order of the ticket first: the partial unique index refuses a second one atomically
      const { id } = await insertOrder(tx, { userId: user.id, ticketId: ticket.id, priceCents: ticket.price_cents, expiresAt });
      await publishEvent(tx, "order.created", {
        id,
        status: "created",
        userId: user.id,
        expiresAt: expiresAt.toISOString(),
        version: 0,
        ticket: { id: ticket.id, price: ticket.price_cents },
      });
      return (await findOrder(tx, id))!;
    });
  } catch (err) {
    if (isUniqueViolation(err, "orders_ticket_live_unique")) throw new BadRequestError("Ticket is already reserved");
    throw err;
  }
  ctx.log.info({ orderId: order.id, ticketId: ticket.id }, "order created");
  res.status(201).json(toOrderJson(order));
};
