import type { CommonTables, Generated, Kysely, UnitOfWork } from "@ticketforge/common";

/** The tickets database (migrations in ./migrations). */
export interface TicketsTables extends CommonTables {
  tickets: {
    id: Generated<string>;
    title: string;
    price_cents: number;
    user_id: string;
    status: Generated<"available" | "reserved" | "sold">;
    order_id: string | null;
    version: Generated<number>;
    /** The version the seller's last edit gave it (0: never edited); migration 003. */
    edited_version: Generated<number>;
    created_at: Generated<Date>;
  };
}

export type TicketsDb = Kysely<TicketsTables>;
export type TicketsWork = UnitOfWork<TicketsTables>;
