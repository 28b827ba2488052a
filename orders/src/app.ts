import type { Express } from "express";
import { rateLimit, requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import { createOrder } from "./routes/create-order";
import { listOrders } from "./routes/list-orders";
import { showOrder } from "./routes/show-order";
import { cancelOrder } from "./routes/cancel-order";

export type OrdersContext = ServiceContext<ConfigOf<typeof settings>>;

export function routes(app: Express, ctx: OrdersContext) {
  const ordersPerBuyer = rateLimit(ctx.db, {
    name: "orders-create",
    limit: ctx.config.ORDERS_RATE_LIMIT_PER_MINUTE,
    windowSeconds: 60,
    key: (req) => req.currentUser?.id,
    message: (s) => `You are placing orders too quickly, try again in ${s} seconds`,
  });
  app.post("/api/orders", requireAuth, ordersPerBuyer, createOrder(ctx));
  app.get("/api/orders", requireAuth, listOrders(ctx));
  app.get("/api/orders/:id", requireAuth, showOrder(ctx));
  app.delete("/api/orders/:id", requireAuth, cancelOrder(ctx));
}
