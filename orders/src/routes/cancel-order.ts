import type { Request, Response } from "express";
import { BadRequestError, NotFoundError, userOf } from "@ticketforge/common";
import type { OrdersContext } from "../app";
import { findOrder } from "../db/orders";
import { cancelLiveOrder } from "../lifecycle";
import { orderIdOf } from "../order-json";

/**
 * The buyer gives up a reservation. Cancelling an already cancelled order succeeds again with no
 * second event; a paid order is never cancelled.
 */
export const cancelOrder = (ctx: OrdersContext) => async (req: Request, res: Response) => {
  const id = orderIdOf(req.params);
  const user = userOf(req);
  const cancelled = await ctx.work(async (uow) => {
    const order = await findOrder(uow.db, id);
    // someone else's order answers as an unknown one, so order ids cannot be probed
    if (!order || order.user_id !== user.id) throw new NotFoundError("Order not found");
    if (await cancelLiveOrder(uow, id, { reason: "buyer" })) return true;
    // not live any more, perhaps since the read above: a payment or an earlier cancel got there first
    const now = await findOrder(uow.db, id);
    if (now?.status === "complete") throw new BadRequestError("Cannot cancel a completed order");
    return false;
  });
  if (cancelled) {
    ctx.log.info({ orderId: id }, "order cancelled by its buyer");
  }
  res.status(204).end();
};
