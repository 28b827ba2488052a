import type { Request, Response } from "express";
import { userOf } from "@ticketforge/common";
import type { OrdersContext } from "../app";
import { findOrdersOf } from "../db/orders";
import { toOrderJson } from "../order-json";

export const listOrders = (ctx: OrdersContext) => async (req: Request, res: Response) => {
  const orders = await findOrdersOf(ctx.db, userOf(req).id);
  res.status(200).json(orders.map(toOrderJson));
};
