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
  pool.on("connect", preparedStatements);
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

/**
 * Runs every parameterised query of this connection as a named prepared statement. PostgreSQL
 * then parses and plans each text once per connection instead of for every execution: the
 * services send many small statements, and parse/plan was a large part of PostgreSQL's CPU per
 * event. Kysely calls `query(text, parameters)`; anything else (no parameters, a query object,
 * a cursor) is passed on untouched.
 */
function preparedStatements(client: PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (args.length === 2 && typeof text === "string" && Array.isArray(values) && values.length > 0) {
      let name = statementNames.get(text);
      if (!name && statementNames.size < maxNamedStatements) {
        name = `tf${statementNames.size}`;
        statementNames.set(text, name);
      }
      if (name) return query({ name, text, values });
    }
    return query(...args);
  };
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
