import type { Express } from "express";
import type { ConfigOf, ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { ExpirationTables } from "./db/tables";

export type ExpirationContext = ServiceContext<ConfigOf<typeof settings>, ExpirationTables>;

/**
 * Expiration has no API of its own: it learns about orders from events and answers with
 * expiration.complete. The health endpoints (/healthz, /readyz) come from common's app.
 */
export function routes(_app: Express, _ctx: ExpirationContext) {}
