import { Kysely, PostgresDialect, sql, type Transaction } from "kysely";
import type { Pool, PoolClient } from "pg";

/** The query layer: Kysely over node-postgres. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tx = Transaction<any>;
export type Queryable = Db | Tx;

export interface Database {
  readonly db: Db;
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
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const { Pool } = await import("pg");
  const pool: Pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
  });
  // Idle clients can error when the server restarts; without a listener that would crash the process.
  pool.on("error", () => undefined);
  pool.on("connect", tuneConnection);
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
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

// Statement texts given a name, process-wide (a name always means the same text). Bounded, so
// code that builds texts on the fly cannot grow every connection's statement cache forever.
const statementNames = new Map<string, string>();
const maxNamedStatements = 500;

type QueryFn = (...args: unknown[]) => unknown;
interface QueryResultLike {
  command: string;
  rowCount: number | null;
  rows: unknown[];
}

/**
 * Two changes to how every connection sends its queries, because each round trip to PostgreSQL
 * costs both processes CPU (a socket write and a wake-up of the other side) and the services'
 * transactions are many small statements:
 *
 * - Every parameterised query runs as a named prepared statement, so PostgreSQL parses and plans
 *   each text once per connection instead of for every execution.
 * - `begin` is not sent on its own: it goes out with the transaction's first statement, in the
 *   same write and under the same Sync (what pgjdbc does too), and a transaction that sent
 *   nothing ends without a round trip. PostgreSQL opens the transaction block exactly as if
 *   `begin` had been its own round trip: the first statement runs inside it, and an error in it
 *   leaves the block aborted for the rollback that follows.
 *
 * Kysely calls `query(text, parameters)`; anything else (a query object, a cursor) is passed on.
 */
function tuneConnection(client: PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  let beginPending = false;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (args.length !== 2 || typeof text !== "string" || !Array.isArray(values)) return query(...args);
    if (values.length === 0) {
      const verb = text.trim().toLowerCase();
      if (verb === "begin" && !beginPending) {
        beginPending = true;
        return Promise.resolve(nothingSent("BEGIN"));
      }
      if (beginPending && (verb === "commit" || verb === "rollback")) {
        // nothing was sent in this transaction: there is nothing to end
        beginPending = false;
        return Promise.resolve(nothingSent(verb.toUpperCase()));
      }
    }
    let name = values.length > 0 ? statementNames.get(text) : undefined;
    if (values.length > 0 && !name && statementNames.size < maxNamedStatements) {
      name = `tf${statementNames.size}`;
      statementNames.set(text, name);
    }
    if (!beginPending) return name ? query({ name, text, values }) : query(text, values);
    beginPending = false;
    return new Promise((resolve, reject) => {
      query(new BeginThenQuery({ name, text, values }, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result))));
    });
  };
}

function nothingSent(command: string): QueryResultLike {
  return { command, rowCount: null, rows: [] };
}

// pg's Query, extended to send `begin` (unnamed statement, its own Bind and Execute) ahead of its
// own messages, before the one Sync. The answers to `begin` (ParseComplete, BindComplete,
// CommandComplete) come first and are not part of the query's result.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Query } = require("pg") as { Query: new (config: unknown, values: unknown, callback: unknown) => PgQuery };
interface PgConnection {
  parse(m: { text: string; name?: string }): void;
  bind(m: { portal: string; statement: string; values: unknown[] }): void;
  execute(m: { portal: string; rows?: number }): void;
  parsedStatements: Record<string, string>;
}
interface PgQuery {
  name?: string;
  queryMode?: string;
  prepare(connection: PgConnection): void;
  handleCommandComplete(msg: unknown, connection: PgConnection): void;
  handleError(err: Error, connection: PgConnection): void;
}

class BeginThenQuery extends (Query as unknown as new (config: unknown, values: unknown, callback: unknown) => PgQuery) {
  private beginAnswered = false;
  private parsedBefore = true;
  constructor(config: { name?: string; text: string; values: unknown[] }, callback: (err: Error | null, result: unknown) => void) {
    super({ ...config, queryMode: "extended" }, undefined, callback);
  }
  override prepare(connection: PgConnection): void {
    this.parsedBefore = this.name === undefined || connection.parsedStatements[this.name] !== undefined;
    connection.parse({ text: "begin" });
    connection.bind({ portal: "", statement: "", values: [] });
    connection.execute({ portal: "" });
    super.prepare(connection);
  }
  override handleCommandComplete(msg: unknown, connection: PgConnection): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true;
      return;
    }
    super.handleCommandComplete(msg, connection);
  }
  override handleError(err: Error, connection: PgConnection): void {
    // the client records a statement as parsed at the first ParseComplete, which was begin's
    if (!this.parsedBefore && this.name !== undefined && connection) delete connection.parsedStatements[this.name];
    super.handleError(err, connection);
  }
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
