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
    created_at: Generated<Date>;
  };
}

export type TicketsDb = Kysely<TicketsTables>;
export type TicketsWork = UnitOfWork<TicketsTables>;
