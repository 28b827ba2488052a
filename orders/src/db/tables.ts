import type { CommonTables, Generated, Kysely, Timestamp, UnitOfWork } from "@ticketforge/common";

/** The orders database (migrations in ./migrations): the replica of tickets, and the orders. */
export interface OrdersTables extends CommonTables {
  tickets: {
    id: string;
    title: string;
    price_cents: number;
    user_id: string;
    version: number;
    /** The order tickets last said holds it (reserved or sold for it); null while available. Migration 005. */
    order_id: string | null;
  };
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
    cancel_reason: CancelReason | null;
    changed_ticket_price_cents: number | null;
    created_at: Generated<Date>;
  };
}

/** Why a cancelled order ended (migration 004). */
export type CancelReason = "buyer" | "expired" | "ticket changed";

export type OrdersDb = Kysely<OrdersTables>;
export type OrdersWork = UnitOfWork<OrdersTables>;
