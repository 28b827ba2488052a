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
