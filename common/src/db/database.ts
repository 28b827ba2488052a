import { Kysely, sql, type QueryExecutorProvider } from "kysely";
import type { Pool, PoolClient } from "pg";
import { CoalescingSocket } from "./coalescing-socket";
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
  /**
   * Cancels the statement running on `client`'s connection (PostgreSQL's pg_cancel_backend),
   * asked over a connection of its own: when every pooled connection is held by a given-up
   * unit of work, none of them is free to carry the cancel.
   */
  cancelRunning(client: PoolClient): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL connection string. */
  url: string;
  /** Most connections this process opens. */
  poolSize?: number;
  /**
   * Connections kept open however long they sit idle (pg's `min`; default: `poolSize`, so the pool
   * keeps every connection a burst opened). A connection is a new PostgreSQL backend, which forks,
   * signs in, loads its catalog caches and plans every named statement anew: about 26 ms each on
   * the 2-core development machine. A pool that had shrunk during a quiet minute paid that when
   * the next crowd came, at the worst moment (docs/benchmarks.md). The peak is the same either
   * way (a burst fills the pool); what this keeps is the peak's connections between bursts.
   */
  keepOpen?: number;
  /**
   * An idle connection beyond `keepOpen` is closed after this long (default 60 s). Not much shorter:
   * with 10 s, a burst of 1,000 orders after a 15 s lull cost PostgreSQL 0.5–1.1 ms more per order
   * than one after a 2 s lull.
   */
  idleTimeoutMs?: number;
  /**
   * PostgreSQL cancels any statement running longer than this (default 30 s): a unit of work that
   * was given up (its AbortSignal fired) never leaves a statement running behind it for long.
   */
  statementTimeoutMs?: number;
}

export async function openDatabase<DB = unknown>(options: OpenOptions): Promise<Database<DB>> {
  const { Client, Pool } = await import("pg");
  const max = options.poolSize ?? 10;
  const pool: Pool = new Pool({
    connectionString: options.url,
    max,
    min: Math.min(options.keepOpen ?? max, max),
    idleTimeoutMillis: options.idleTimeoutMs ?? 60_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // queries are written as soon as they are issued (see driver.ts)
    pipeline: true,
    // ...and what a turn of the event loop wrote leaves in one system call (coalescing-socket.ts)
    stream: () => new CoalescingSocket(),
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
    throw new Error(`Cannot reach PostgreSQL at ${location}: ${(err as Error).message}`, { cause: err });
  }
  return {
    db,
    pool,
    url: options.url,
    location,
    ping: async () => void (await sql`select 1`.execute(db)),
    cancelRunning: async (client) => {
      const pid = pids.get(client);
      if (pid === undefined) return;
      const canceller = new Client({ connectionString: options.url, connectionTimeoutMillis: 5_000 });
      canceller.on("error", () => undefined);
      try {
        await canceller.connect();
        await canceller.query("select pg_cancel_backend($1)", [pid]);
      } catch {
        // the server is gone or full: statement_timeout still ends the statement
      } finally {
        await canceller.end().catch(() => undefined);
      }
    },
    close: () => db.destroy(),
  };
}

// The server process of each connection, asked once when it opens: a given-up unit of work
// cancels its running statement by it (cancelRunning).
const pids = new WeakMap<PoolClient, number>();

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
