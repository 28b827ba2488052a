import type { Request, Response } from "express";
import { BadRequestError, NotFoundError, publishEvent, RateLimiter, tooMany, userOf, validate, isUuid } from "@ticketforge/common";
import { createOrderBody } from "@ticketforge/common/api";
import type { OrdersContext } from "../app";
import { lockBuyer, placeOrder, refusal, type Refusal } from "../db/orders";
import { toOrderJson } from "../order-json";

/**
 * Reserves a ticket for the signed-in buyer for the expiration window. The usual case is two
 * round trips: the buyer's rate-limit hit, lock and the order in one, the event and the commit
 * in the other. A refusal is explained by one more read and still commits, so that the hit of a
 * refused attempt counts too. When that read finds nothing in the way any more (the ticket became
 * known to the replica just after the insert looked for it), the order is tried once more.
 */
export const createOrder = (ctx: OrdersContext) => {
  const limiter = new RateLimiter(ctx.db, { name: "orders-create", limit: ctx.config.ORDERS_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 });
  return async (req: Request, res: Response) => {
    const { ticketId } = validate(createOrderBody, req.body);
    const user = userOf(req);
    if (!isUuid(ticketId)) throw new NotFoundError("Ticket not found");
    const expiresAt = new Date(Date.now() + ctx.config.EXPIRATION_WINDOW_SECONDS * 1000);
    const wanted = { userId: user.id, ticketId, expiresAt };
    const limits = {
      maxLive: ctx.config.ORDERS_MAX_LIVE_PER_BUYER,
      allowed: limiter.withinLimit(user.id),
      reholdAfterSeconds: ctx.config.ORDERS_REHOLD_COOLDOWN_SECONDS && ctx.config.EXPIRATION_WINDOW_SECONDS + ctx.config.ORDERS_REHOLD_COOLDOWN_SECONDS,
    };
    const outcome = await ctx.relay.transaction(async (tx) => {
      await limiter.hitIn(tx, user.id);
      await lockBuyer(tx, user.id);
      let placed = await placeOrder(tx, wanted, limits);
      if (!placed) {
        const why = await refusal(tx, wanted, limits);
        if (why.reason !== "unexplained") return { refused: why };
        // what stood in the way a moment ago is gone (the ticket became known, its order ended)
        placed = await placeOrder(tx, wanted, limits);
        if (!placed) return { refused: await refusal(tx, wanted, limits) };
      }
      await publishEvent(tx, "order.created", {
        id: placed.id,
        status: "created",
        userId: user.id,
        expiresAt: expiresAt.toISOString(),
        version: 0,
        ticket: { id: placed.ticket_id, price: placed.price_cents },
      });
      return { placed };
    });
    if (outcome.refused) throw await refused(outcome.refused, limiter, user.id, res);
    ctx.log.info({ orderId: outcome.placed.id, ticketId }, "order created");
    res.status(201).json(toOrderJson(outcome.placed));
  };
};

async function refused({ reason, live, waitSeconds }: { reason: Refusal; live: number; waitSeconds?: number }, limiter: RateLimiter, userId: string, res: Response): Promise<Error> {
  switch (reason) {
    case "rate limited":
      // at least a second, should the window have ended since the insert counted
      return tooMany(res, Math.max(1, (await limiter.peek(userId)).retryAfterSeconds), (s) => `You are placing orders too quickly, try again in ${s} seconds`);
    case "no ticket":
      return new NotFoundError("Ticket not found");
    case "own ticket":
      return new BadRequestError("You cannot buy your own ticket");
    case "cooling down":
      // holding a ticket again and again would keep it from everyone else for ever
      return tooMany(res, Math.max(1, waitSeconds ?? 1), (s) => `You held this ticket a moment ago; you can hold it again in ${s} seconds`);
    case "too many live orders":
      return new BadRequestError(`You already hold ${live} unpaid orders, the most one buyer may hold; pay or cancel one first`);
    case "ticket taken":
    case "unexplained": // changed again between two statements: someone else is ordering it right now
      return new BadRequestError("Ticket is already reserved");
  }
}
