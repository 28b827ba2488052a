import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import { routes } from "./app";
import { orderCreatedListener } from "./events/order-created-listener";
import { orderCancelledListener } from "./events/order-cancelled-listener";
import { orderCompletedListener } from "./events/order-completed-listener";
import { startTimerWorker } from "./workers/timers";
import type { ExpirationTables } from "./db/tables";

export const expiration = {
  name: "expiration",
  settings,
  migrationsDir: path.join(__dirname, "db", "migrations"),
  routes,
  listeners: [orderCreatedListener, orderCancelledListener, orderCompletedListener],
  workers: (ctx) => [startTimerWorker(ctx)],
} satisfies ServiceDefinition<typeof settings, ExpirationTables>;
