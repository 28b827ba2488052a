import type { Express } from "express";
import { idempotent, requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { OrdersTables } from "./db/tables";
import { createOrder } from "./routes/create-order";
import { listOrders } from "./routes/list-orders";
import { showOrder } from "./routes/show-order";
import { cancelOrder } from "./routes/cancel-order";

export type OrdersContext = ServiceContext<ConfigOf<typeof settings>, OrdersTables>;

export function routes(app: Express, ctx: OrdersContext) {
  // the buyer's rate limit is counted in the order's own transaction (createOrder); a retry with
  // the same Idempotency-Key gets the first answer
  app.post("/api/orders", requireAuth, idempotent(ctx.db, "create-order"), createOrder(ctx));
  app.get("/api/orders", requireAuth, listOrders(ctx));
  app.get("/api/orders/:id", requireAuth, showOrder(ctx));
  app.delete("/api/orders/:id", requireAuth, cancelOrder(ctx));
}
