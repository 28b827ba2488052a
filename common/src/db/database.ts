import { Kysely, sql, type QueryExecutorProvider } from "kysely";
import type { Pool, PoolClient } from "pg";
import { pipelinedDialect } from "./driver";

/**
 * What raw SQL (kysely's `sql` templates) runs on: a service's typed handle, a unit of work's,
 * or common's own code, which knows no service's tables.
 */
export type Queryable = QueryExecutorProvider;

export interface Database<DB = unknown> {
  /** The service's tables, typed by the service (`openDatabase<OrdersTables>`). */
  readonly db: Kysely<DB>;
  readonly pool: Pool;
  /** The connection string (with its password: never log it; `location` is for logs). */
  readonly url: string;
  /** Describes where the data is, for logs (never includes a password). */
  readonly location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL connection string. */
  url: string;
  /** Most connections this process opens. */
  poolSize?: number;
  /**
   * An idle connection is closed after this long, so that a quiet local stack of five services
   * does not hold fifty server processes.
   */
  idleTimeoutMs?: number;
  /**
   * PostgreSQL cancels any statement running longer than this (default 30 s): a unit of work that
   * was given up (its AbortSignal fired) never leaves a statement running behind it for long.
   */
  statementTimeoutMs?: number;
}

export async function openDatabase<DB = unknown>(options: OpenOptions): Promise<Database<DB>> {
  const { Pool } = await import("pg");
  const pool: Pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // queries are written as soon as they are issued (see driver.ts)
    pipeline: true,
  });
  // Idle clients can error when the server restarts; without a listener that would crash the process.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    // ...and so can a checked-out client between two statements (the pool listens on idle ones
    // only): its next statement fails (a 503), and the pool drops it when it comes back
    client.on("error", () => undefined);
    client.query("select pg_backend_pid() as pid").then(
      (r) => pids.set(client, Number(r.rows[0].pid)),
      () => undefined,
    );
  });
  const db = new Kysely<DB>({ dialect: pipelinedDialect(pool) });
  const location = redact(options.url);
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new Error(`Cannot reach PostgreSQL at ${location}: ${(err as Error).message}`);
  }
  return {
    db,
    pool,
    url: options.url,
    location,
    ping: async () => void (await sql`select 1`.execute(db)),
    close: () => db.destroy(),
  };
}

// The server process of each connection, asked once when it opens: a given-up unit of work
// cancels its running statement by it (pg_cancel_backend).
const pids = new WeakMap<PoolClient, number>();

export function backendPid(client: PoolClient): number | undefined {
  return pids.get(client);
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres";
  }
}

/** True when a query failed on a unique constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code !== "23505") return false;
  return constraint === undefined || e.constraint === constraint || (e.message ?? "").includes(constraint);
}
