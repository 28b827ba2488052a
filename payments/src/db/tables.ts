import type { CommonTables, Generated, Kysely, Timestamp, UnitOfWork } from "@ticketforge/common";

/** The payments database (migrations in ./migrations). */
export interface PaymentsTables extends CommonTables {
  orders: { id: string; user_id: string; price_cents: number; status: string; version: number; charge_attempt: Generated<number> };
  payments: {
    id: Generated<string>;
    order_id: string;
    amount_cents: number;
    provider: string;
    provider_ref: string;
    status: "succeeded" | "refunded";
    refund_ref: string | null;
    created_at: Generated<Date>;
    refund_due_at: Timestamp | null;
    refunded_at: Timestamp | null;
    refund_failures: Generated<number>;
    last_refund_error: string | null;
  };
  payment_attempts: {
    idempotency_key: string;
    order_id: string;
    user_id: string;
    amount_cents: number;
    status: "pending" | "charged" | "declined" | "invalid" | "abandoned";
    charge_ref: string | null;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    requested_at: Generated<Date>;
  };
  sandbox_ledger: { kind: string; key: string; value: unknown };
}

export type PaymentsDb = Kysely<PaymentsTables>;
export type PaymentsWork = UnitOfWork<PaymentsTables>;
