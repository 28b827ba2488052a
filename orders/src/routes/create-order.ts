import type { Request, Response } from "express";
import { BadRequestError, NotFoundError, RateLimiter, tooMany, userOf, validate, isUuid } from "@ticketforge/common";
import { createOrderBody } from "@ticketforge/common/api";
import type { OrdersContext } from "../app";
import { lockBuyer, placeOrder, refusal, ticketTaken, type Refusal } from "../db/orders";
import { toOrderJson } from "../order-json";

/**
 * Reserves a ticket for the signed-in buyer for the expiration window. The usual case is three
 * round trips: the first look (the buyer's rate-limit hit, and whether the ticket is taken), then
 * one unit of work: the buyer's lock and the order in one, the event and the commit in the other.
 * A refusal inside the work is explained by one more read. When that read finds nothing in the way any more (the ticket became
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
    // The first look, one statement outside any transaction: it counts the attempt (refused ones
    // too) and tells whether the ticket is held already. A crowd after one ticket is refused here,
    // without a transaction, a lock or a wait for the order that got it.
    const first = await limiter.hitAnd(user.id, ticketTaken(ticketId));
    if (first.count.hits > limiter.options.limit) throw await refused({ reason: "rate limited", live: 0 }, limiter, user.id, res);
    if (first.also) throw await refused({ reason: "ticket taken", live: 0 }, limiter, user.id, res);
    const limits = {
      maxLive: ctx.config.ORDERS_MAX_LIVE_PER_BUYER,
      allowed: limiter.withinLimit(user.id),
      reholdAfterSeconds:
        ctx.config.ORDERS_REHOLD_COOLDOWN_SECONDS && ctx.config.EXPIRATION_WINDOW_SECONDS + ctx.config.ORDERS_REHOLD_COOLDOWN_SECONDS,
    };
    const outcome = await ctx.work(async (uow) => {
      lockBuyer(uow, user.id);
      let placed = await placeOrder(uow.db, wanted, limits);
      if (!placed) {
        const why = await refusal(uow.db, wanted, limits);
        if (why.reason !== "unexplained") return { refused: why };
        // what stood in the way a moment ago is gone (the ticket became known, its order ended)
        placed = await placeOrder(uow.db, wanted, limits);
        if (!placed) return { refused: await refusal(uow.db, wanted, limits) };
      }
      uow.publish("order.created", {
        id: placed.id,
        status: "created",
        userId: user.id,
        expiresAt: expiresAt.toISOString(),
        version: 0,
        // the version that priced it: tickets refuses the reservation if the seller edited it since
        ticket: { id: placed.ticket_id, price: placed.price_cents, version: placed.ticket_version },
      });
      return { placed };
    });
    if (outcome.refused) throw await refused(outcome.refused, limiter, user.id, res);
    ctx.log.info({ orderId: outcome.placed.id, ticketId }, "order created");
    res.status(201).json(toOrderJson(outcome.placed));
  };
};

async function refused(
  { reason, live, waitSeconds }: { reason: Refusal; live: number; waitSeconds?: number },
  limiter: RateLimiter,
  userId: string,
  res: Response,
): Promise<Error> {
  switch (reason) {
    case "rate limited":
      // at least a second, should the window have ended since the insert counted
      return tooMany(
        res,
        Math.max(1, (await limiter.peek(userId)).retryAfterSeconds),
        (s) => `You are placing orders too quickly, try again in ${s} seconds`,
      );
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
