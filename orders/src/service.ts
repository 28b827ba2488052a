import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import { routes } from "./app";
import { ticketCreated } from "./events/ticket-created-listener";
import { ticketUpdated } from "./events/ticket-updated-listener";
import { expirationComplete } from "./events/expiration-complete-listener";
import { paymentCompleted } from "./events/payment-completed-listener";
import { paymentRefunded } from "./events/payment-refunded-listener";

export const orders = {
  name: "orders",
  settings,
  migrationsDir: path.join(__dirname, "db", "migrations"),
  routes,
  listeners: [ticketCreated, ticketUpdated, expirationComplete, paymentCompleted, paymentRefunded],
} satisfies ServiceDefinition<typeof settings>;
