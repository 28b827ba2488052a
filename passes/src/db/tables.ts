import type { CommonTables, Generated, Kysely, Timestamp, UnitOfWork } from "@ticketforge/common";

export type PassStatus = "valid" | "used" | "transferred";

/** The passes database (migrations in ./migrations): replicas of tickets and users, the paid orders, and the passes. */
export interface PassesTables extends CommonTables {
  tickets: { id: string; title: string; seller_id: string; version: number };
  orders: { id: string; buyer_id: string; ticket_id: string };
  users: { id: string; email: string };
  passes: {
    id: Generated<string>;
    ticket_id: string;
    order_id: string;
    owner_id: string;
    status: Generated<PassStatus>;
    transferred_from: string | null;
    created_at: Generated<Date>;
  };
  checkins: { pass_id: string; scanner: string; admitted_at: Timestamp; offline: boolean };
  checkin_conflicts: {
    id: Generated<string>;
    pass_id: string;
    scanner: string;
    scanned_at: Timestamp;
    reason: string;
    reported_at: Generated<Date>;
  };
  mails: {
    id: Generated<string>;
    to_user_id: string;
    subject: string;
    body: string;
    created_at: Generated<Date>;
    attempts: Generated<number>;
    next_attempt_at: Generated<Date>;
    sent_at: Date | null;
  };
}

export type PassesDb = Kysely<PassesTables>;
export type PassesWork = UnitOfWork<PassesTables>;
