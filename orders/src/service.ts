import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import type { OrdersTables } from "./db/tables";
import { routes } from "./app";
import { ticketCreatedListener } from "./events/ticket-created-listener";
import { ticketUpdatedListener } from "./events/ticket-updated-listener";
import { expirationCompleteListener } from "./events/expiration-complete-listener";
import { paymentCompletedListener } from "./events/payment-completed-listener";
import { paymentRefundedListener } from "./events/payment-refunded-listener";
import { ticketReservationRefusedListener } from "./events/ticket-reservation-refused-listener";
import { overdueOrders } from "./workers/overdue-orders";

export const orders = {
  name: "orders",
  settings,
  migrationsDir: path.join(__dirname, "db", "migrations"),
  // Every statement of orders finds its rows by a key or an index, whatever its values. With
  // PostgreSQL's default, connections whose first orders were cheap to plan kept planning the order's
  // statement at every order: 0.4–0.5 ms of PostgreSQL's time each (docs/benchmarks.md).
  plans: "generic",
  routes,
  listeners: [
    ticketCreatedListener,
    ticketUpdatedListener,
    ticketReservationRefusedListener,
    expirationCompleteListener,
    paymentCompletedListener,
    paymentRefundedListener,
  ],
  workers: (ctx) => [overdueOrders(ctx)],
} satisfies ServiceDefinition<typeof settings, OrdersTables>;
