import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import type { AuthTables } from "./db/tables";
import { routes } from "./app";

export const auth = {
  name: "auth",
  settings,
  migrationsDir: path.join(__dirname, "db", "migrations"),
  routes,
  listeners: [],
} satisfies ServiceDefinition<typeof settings, AuthTables>;
