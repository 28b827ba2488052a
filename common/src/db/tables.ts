import type { ColumnType, Generated } from "kysely";

/**
 * The tables of common's migrations, present in every service's database. A service declares its
 * own tables as an interface extending this one (`<service>/src/db/tables.ts`), and its database
 * handle and units of work are typed by it.
 */
export interface CommonTables {
  outbox: {
    seq: Generated<string>;
    id: string;
    subject: string;
    payload: unknown;
    trace_context: unknown;
    created_at: Generated<Date>;
    claimed_until: Date | null;
    published_at: Date | null;
  };
  inbox: { consumer: string; event_id: string; handled_at: Generated<Date> };
  entity_versions: { entity: string; id: string; version: number };
  rate_limits: { key: string; window_start: Date; hits: number };
  schema_migrations: { name: string; applied_at: Generated<Date> };
}

/** A timestamp column: read as a Date, written as a Date or an ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
