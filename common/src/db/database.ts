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
  // ...and so can a checked-out client between two statements (the pool listens on idle ones only):
  // its next statement fails (a 503), and the pool drops it when it comes back
  pool.on("connect", (client) => client.on("error", () => undefined));
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
interface Statement {
  text: string;
  values: unknown[];
}

const withNextMarker = "/* sent with the next statement */";

/**
 * Put first in a statement whose result nobody reads (an outbox row, an advisory lock): inside a
 * transaction it is not sent on its own but with the transaction's next statement, or with its
 * commit, in the same round trip. An error in it then surfaces there, and the transaction fails
 * as a whole, as it would have anyway. Outside a transaction it is sent at once.
 */
export const sendWithNext = sql.raw(`${withNextMarker} `);

/**
 * How every connection sends its queries. Each round trip to PostgreSQL costs both processes CPU
 * (a socket write and a wake-up of the other side, dear on these virtual machines), and the
 * services' transactions are many small statements, so:
 *
 * - Every parameterised query runs as a named prepared statement: PostgreSQL parses and plans
 *   each text once per connection instead of for every execution.
 * - Statements whose answer is not needed yet are held and sent ahead of the next statement, in
 *   the same write and under the same Sync (pipelining, as pgjdbc does with `begin`): `begin`
 *   itself, and statements marked `sendWithNext`. PostgreSQL runs them in order exactly as if each
 *   had been its own round trip, each with its own snapshot; the first error skips the rest and
 *   is the answer, which leaves the transaction aborted for the rollback that follows. A
 *   transaction that sent nothing ends without a round trip; a rollback drops what is held.
 *
 * Kysely calls `query(text, parameters)`; anything else (a query object, a cursor) is passed on.
 */
function tuneConnection(client: PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  let inTransaction = false;
  let held: Statement[] = [];
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (args.length !== 2 || typeof text !== "string" || !Array.isArray(values)) return query(...args);
    const verb = values.length === 0 ? text.trim().toLowerCase() : "";
    if (verb === "begin" && !inTransaction) {
      inTransaction = true;
      held = [{ text: "begin", values: [] }];
      return Promise.resolve(nothingSent("BEGIN"));
    }
    if ((verb === "commit" || verb === "rollback") && inTransaction) {
      inTransaction = false;
      const beginSent = held[0]?.text !== "begin";
      const pending = held;
      held = [];
      // nothing was sent: there is nothing to end
      if (!beginSent && (verb === "rollback" || pending.length === 1)) return Promise.resolve(nothingSent(verb.toUpperCase()));
      // a rollback drops what is held: it would be undone anyway
      if (verb === "rollback") return query(text, values);
      const committing = pending.length === 0 ? query(text, values) : sendAfter(query, pending, { text, values });
      return (committing as Promise<QueryResultLike>).then(refuseRolledBack);
    }
    if (inTransaction && text.startsWith(withNextMarker)) {
      held.push({ text, values });
      return Promise.resolve(nothingSent("HELD"));
    }
    if (held.length === 0) {
      const name = statementName(text, values);
      return name ? query({ name, text, values }) : query(text, values);
    }
    const pending = held;
    held = [];
    return sendAfter(query, pending, { text, values });
  };
}

function statementName(text: string, values: unknown[]): string | undefined {
  if (values.length === 0) return undefined;
  let name = statementNames.get(text);
  if (!name && statementNames.size < maxNamedStatements) {
    name = `tf${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

function sendAfter(query: QueryFn, before: Statement[], statement: Statement): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const q = new PipelinedQuery(before, { ...statement, name: statementName(statement.text, statement.values) }, (err: Error | null, result: unknown) =>
      err ? reject(err) : resolve(result),
    );
    query(q);
  });
}

/**
 * PostgreSQL answers COMMIT of a transaction in which a statement failed with ROLLBACK, not with
 * an error. That happens only when code caught the statement's error and went on to commit; the
 * caller must not take the work as done, so the commit fails.
 */
function refuseRolledBack(result: QueryResultLike): QueryResultLike {
  if (result.command === "ROLLBACK") throw new Error("the transaction was rolled back, not committed: a statement in it had failed and its error was caught");
  return result;
}

function nothingSent(command: string): QueryResultLike {
  return { command, rowCount: null, rows: [] };
}

// pg's Query, extended to send other statements ahead of its own messages, before the one Sync:
// each with its own Bind and Execute (no Describe: nobody reads their rows), a parameterised one
// as a named prepared statement like any other. Their answers (ParseComplete, BindComplete,
// DataRows, CommandComplete) come first and are not part of the query's result.
const { Query } = require("pg") as { Query: new (config: unknown, values: unknown, callback: unknown) => PgQuery };
const { prepareValue } = require("pg/lib/utils") as { prepareValue: (v: unknown) => unknown };
interface PgConnection {
  parse(m: { text: string; name?: string }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; valueMapper?: (v: unknown) => unknown }): void;
  execute(m: { portal: string; rows?: number }): void;
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  on(event: "parseComplete", listener: () => void): void;
  off(event: "parseComplete", listener: () => void): void;
}
interface PgQuery {
  name?: string;
  prepare(connection: PgConnection): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, connection: PgConnection): void;
  handleEmptyQuery(connection: PgConnection): void;
  handleError(err: Error, connection: PgConnection): void;
}

class PipelinedQuery extends (Query as unknown as new (config: unknown, values: unknown, callback: unknown) => PgQuery) {
  /** Answers of the statements sent ahead still to come. */
  private ahead: number;
  constructor(
    private readonly before: Statement[],
    private readonly config: { name?: string; text: string; values: unknown[] },
    callback: (err: Error | null, result: unknown) => void,
  ) {
    super({ ...config, queryMode: "extended" }, undefined, callback);
    this.ahead = before.length;
  }
  override prepare(connection: PgConnection): void {
    // Every statement goes out in its place (a held one may create what the next one names).
    // Those new to this connection are parsed as named statements; as their ParseCompletes come
    // back, in order, each is recorded as parsed. The client itself records the query's own
    // name at the first ParseComplete, which may be a held statement's: that is undone until
    // the query's own comes, so that an error in between leaves its name unrecorded.
    const isNew = (name: string | undefined) =>
      name === undefined || (connection.parsedStatements[name] === undefined && connection.submittedNamedStatements[name] === undefined);
    const own = this.config.name;
    const ownIsNew = own !== undefined && isNew(own);
    const parsing: Array<{ name?: string; text: string; own?: boolean }> = [];
    for (const s of this.before) {
      const name = statementName(s.text, s.values);
      if (isNew(name)) {
        connection.parse({ text: s.text, name });
        if (name !== undefined) connection.submittedNamedStatements[name] = s.text;
        parsing.push({ name, text: s.text });
      }
      connection.bind({ portal: "", statement: name ?? "", values: s.values, valueMapper: prepareValue });
      connection.execute({ portal: "" });
    }
    if (ownIsNew) parsing.push({ name: own, text: this.config.text, own: true });
    super.prepare(connection);
    if (parsing.length === 0 || (parsing.length === 1 && parsing[0].own)) return;
    let answered = 0;
    this.onParsed = () => {
      const p = parsing[answered++];
      if (p && !p.own) {
        if (p.name !== undefined) {
          connection.parsedStatements[p.name] = p.text;
          delete connection.submittedNamedStatements[p.name];
        }
        if (ownIsNew) {
          delete connection.parsedStatements[own];
          connection.submittedNamedStatements[own] = this.config.text;
        }
      }
      if (answered === parsing.length) this.stopListening();
    };
    this.stopListening = () => {
      connection.off("parseComplete", this.onParsed!);
      // what was not parsed (an error came first) is not on the server: parse it again next time
      for (const p of parsing.slice(answered)) if (p.name !== undefined) delete connection.submittedNamedStatements[p.name];
      this.stopListening = () => undefined;
    };
    connection.on("parseComplete", this.onParsed);
  }
  private onParsed?: () => void;
  private stopListening: () => void = () => undefined;
  override handleError(err: Error, connection: PgConnection): void {
    this.stopListening();
    super.handleError(err, connection);
  }
  override handleDataRow(msg: unknown): void {
    if (this.ahead === 0) super.handleDataRow(msg);
  }
  override handleCommandComplete(msg: unknown, connection: PgConnection): void {
    if (this.ahead > 0) this.ahead--;
    else super.handleCommandComplete(msg, connection);
  }
  override handleEmptyQuery(connection: PgConnection): void {
    if (this.ahead > 0) this.ahead--;
    else super.handleEmptyQuery(connection);
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
