import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { Pool, PoolClient, QueryConfig, QueryResult as PgResult } from "pg";

/**
 * Kysely over node-postgres, through both libraries' public APIs only:
 *
 * - The pool's clients run in pg's pipeline mode (`pipeline: true`): a query is written to the
 *   socket as soon as it is issued, without waiting for the answers of those before it. A unit of
 *   work uses that to send statements whose answers nobody reads yet (an outbox row, an inbox row,
 *   a version check) in the same round trip as the next one.
 * - Every parameterised statement runs as a named prepared statement (pg's `name` query option):
 *   PostgreSQL parses and plans a text once per connection instead of at every execution.
 */
export function pipelinedDialect(pool: Pool): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PoolDriver(pool),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

/**
 * The Kysely handle of one pool connection, for the unit of work that holds it: every query runs
 * on that connection and, unlike in Kysely's own transactions, queries are not made to wait for
 * each other (the unit of work decides the order it issues them in, and pg pipelines them in that
 * order). Made once per connection and kept with it; `signal` is the holder's (see ClientConnection).
 */
export function handleOf<DB>(client: PoolClient, signal: AbortSignal): Kysely<DB> {
  let held = handles.get(client);
  if (!held) {
    const connection = new ClientConnection(client);
    held = { connection, db: new Kysely<unknown>({ dialect: heldDialect(connection) }) };
    handles.set(client, held);
  }
  held.connection.signal = signal;
  return held.db as Kysely<DB>;
}

const handles = new WeakMap<PoolClient, { connection: ClientConnection; db: Kysely<unknown> }>();

function heldDialect(connection: ClientConnection): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new HeldClientDriver(connection),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

// Names of statement texts, process-wide (a name always means the same text). Bounded, so that
// code building texts on the fly cannot grow every connection's statement cache for ever; texts
// past the bound run unnamed.
const statementNames = new Map<string, string>();
const maxNamedStatements = 500;

/** pg's query config for a text: named when it has parameters and there is room. */
export function queryConfig(text: string, values: readonly unknown[]): QueryConfig {
  if (values.length === 0) return { text };
  let name = statementNames.get(text);
  if (!name && statementNames.size < maxNamedStatements) {
    name = `tf${statementNames.size}`;
    statementNames.set(text, name);
  }
  return { name, text, values: values as unknown[] };
}

/**
 * `begin`, `commit` or `rollback` sent with the extended protocol, which pg corks and uncorks
 * around like every parameterised statement: the CoalescingSocket then sends it with the other
 * statements of its turn. In the simple protocol pg would write it at once, on its own. Named
 * like the other statements, so that each connection parses it once, not twice per transaction
 * (PostgreSQL accepts a prepared `commit` or `rollback` in a failed transaction too).
 * (`queryMode` is a field of pg's public QueryConfig (its client API page); @types/pg does not list it yet.)
 */
export function transactionControl(text: "begin" | "commit" | "rollback"): QueryConfig {
  const config: QueryConfig & { queryMode: "extended" } = { name: `tf_${text}`, text, queryMode: "extended" };
  return config;
}

/** Runs one compiled query on a client and answers in Kysely's shape. */
export async function runOn<R>(client: PoolClient, query: CompiledQuery): Promise<QueryResult<R>> {
  const result: PgResult = await client.query(queryConfig(query.sql, query.parameters));
  return toKysely<R>(result);
}

function toKysely<R>(result: PgResult): QueryResult<R> {
  const { command, rowCount, rows } = result;
  const changed = command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE";
  return { numAffectedRows: changed ? BigInt(rowCount ?? 0) : undefined, rows: (rows ?? []) as R[] };
}

class ClientConnection implements DatabaseConnection {
  /** The signal of the unit of work holding the connection: once it fires, no further statement is sent. */
  signal?: AbortSignal;
  constructor(readonly client: PoolClient) {}
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    this.signal?.throwIfAborted();
    return runOn<R>(this.client, query);
  }
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming (a cursor) is not possible on a pipelined connection");
  }
}

async function begin(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
  let text = "begin";
  if (settings.isolationLevel) text += ` isolation level ${settings.isolationLevel}`;
  if (settings.accessMode) text += ` ${settings.accessMode}`;
  await connection.executeQuery(CompiledQuery.raw(text));
}

async function commit(connection: DatabaseConnection): Promise<void> {
  const result = (await (connection as ClientConnection).client.query("commit")) as PgResult;
  // PostgreSQL answers COMMIT of a transaction in which a statement failed with ROLLBACK, not
  // with an error: the work was not done, so the commit fails.
  if (result.command === "ROLLBACK") throw new Error("the transaction was rolled back, not committed: a statement in it had failed");
}

class PoolDriver implements Driver {
  constructor(private readonly pool: Pool) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new ClientConnection(await this.pool.connect());
  }
  beginTransaction = begin;
  commitTransaction = commit;
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as ClientConnection).client.release();
  }
  async destroy(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

class HeldClientDriver implements Driver {
  constructor(private readonly connection: ClientConnection) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async beginTransaction(): Promise<void> {
    throw new Error("a unit of work is a transaction already");
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}
