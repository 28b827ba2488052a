import type { CommonTables, Generated, Kysely, Timestamp, UnitOfWork } from "@ticketforge/common";

/** The expiration database (migrations in ./migrations): one timer per live order. */
export interface ExpirationTables extends CommonTables {
  timers: { order_id: string; expires_at: Timestamp; created_at: Generated<Date> };
}

export type ExpirationDb = Kysely<ExpirationTables>;
export type ExpirationWork = UnitOfWork<ExpirationTables>;
