import type { CommonTables, Generated, Kysely, Timestamp, UnitOfWork } from "@ticketforge/common";

/** The orders database (migrations in ./migrations): the replica of tickets, and the orders. */
export interface OrdersTables extends CommonTables {
  tickets: { id: string; title: string; price_cents: number; user_id: string; version: number };
  orders: {
    id: Generated<string>;
    user_id: string;
    ticket_id: string;
    status: "created" | "awaiting:payment" | "complete" | "cancelled";
    expires_at: Timestamp;
    version: Generated<number>;
    price_cents: number;
    payment_id: string | null;
    refund_amount_cents: number | null;
    refunded_at: Timestamp | null;
    created_at: Generated<Date>;
  };
}

export type OrdersDb = Kysely<OrdersTables>;
export type OrdersWork = UnitOfWork<OrdersTables>;
