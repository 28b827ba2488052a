import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import type { TicketsTables } from "./db/tables";
import { routes } from "./app";
import { orderCreatedListener } from "./events/order-created-listener";
import { orderCancelledListener } from "./events/order-cancelled-listener";
import { orderCompletedListener } from "./events/order-completed-listener";

export const tickets = {
  name: "tickets",
  settings,
  migrationsDir: path.join(__dirname, "db", "migrations"),
  routes,
  listeners: [orderCreatedListener, orderCancelledListener, orderCompletedListener],
} satisfies ServiceDefinition<typeof settings, TicketsTables>;
