import type { Request, Response } from "express";
import { NotFoundError, userOf } from "@ticketforge/common";
import type { OrdersContext } from "../app";
import { findOrder } from "../db/orders";
import { orderIdOf, toOrderJson } from "../order-json";

export const showOrder = (ctx: OrdersContext) => async (req: Request, res: Response) => {
  const order = await findOrder(ctx.db, orderIdOf(req.params));
  if (!order) throw new NotFoundError("Order not found");
  // someone else's order answers as an unknown one, so order ids cannot be probed
  if (order.user_id !== userOf(req).id) throw new NotFoundError("Order not found");
  res.status(200).json(toOrderJson(order));
};
