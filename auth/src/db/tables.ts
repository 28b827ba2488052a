import type { CommonTables, Generated, Kysely } from "@ticketforge/common";

/** The auth database (migrations in ./migrations). */
export interface AuthTables extends CommonTables {
  users: { id: Generated<string>; email: string; password_hash: string; created_at: Generated<Date> };
}

export type AuthDb = Kysely<AuthTables>;
