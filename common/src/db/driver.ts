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
import type { Pool, PoolClient, QueryResult as PgResult } from "pg";
import { Batcher, type Statement } from "./batch";

/**
 * Kysely over node-postgres, through both libraries' public APIs only:
 *
 * - Every statement runs in the batch of its turn of the event loop on its connection (batch.ts):
 *   the statements a unit of work issues without waiting (begin, an inbox row, a version check,
 *   an outbox row, the commit) reach PostgreSQL together and are answered together, each with its
 *   own result or error.
 * - Every parameterised statement runs as a named prepared statement: PostgreSQL parses and plans
 *   a text once per connection instead of at every execution.
 */
export function batchedDialect(pool: Pool): Dialect {
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
 * each other (the unit of work decides the order it issues them in, and they are sent in that
 * order, a turn's in one batch). Made once per connection and kept with it; `signal` is the holder's (see ClientConnection).
 */
export function handleOf<DB>(client: PoolClient, signal: AbortSignal): Kysely<DB> {
  let held = handles.get(client);
  if (!held) {
    const connection = new ClientConnection(client, true);
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

/**
 * The statement for a text: named when it has parameters (or is one statement of a unit of work)
 * and there is room. A text without parameters outside a unit of work may hold several statements
 * (a test's schema, a script): it runs in the simple protocol, which allows that.
 */
export function queryConfig(text: string, values: readonly unknown[], single = false): Statement {
  if (values.length === 0 && !single) return { text };
  let name = statementNames.get(text);
  if (!name && statementNames.size < maxNamedStatements) {
    name = `tf${statementNames.size}`;
    statementNames.set(text, name);
  }
  return values.length === 0 ? { name, text, queryMode: "extended" } : { name, text, values };
}

/**
 * `begin`, `commit` or `rollback` in the extended protocol, so that it travels in the batch of its
 * turn with the other statements (in the simple protocol it would go on its own). Named like the
 * other statements, so that each connection parses it once, not twice per transaction
 * (PostgreSQL accepts a prepared `commit` or `rollback` in a failed transaction too).
 */
export function transactionControl(text: "begin" | "commit" | "rollback"): Statement {
  return { name: `tf_${text}`, text, queryMode: "extended" };
}

/** Runs a statement on a client, in the batch of its turn (batch.ts). */
export function runStatement(client: PoolClient, statement: Statement): Promise<PgResult> {
  let batcher = batchers.get(client);
  if (!batcher) {
    batcher = new Batcher(client);
    batchers.set(client, batcher);
  }
  return batcher.run(statement);
}

const batchers = new WeakMap<PoolClient, Batcher>();

/**
 * Runs one compiled query on a client and answers in Kysely's shape. `inWork`: the client is held
 * by a unit of work, whose statements are one each and all travel in the batches of their turns.
 */
export async function runOn<R>(client: PoolClient, query: CompiledQuery, inWork = false): Promise<QueryResult<R>> {
  return toKysely<R>(await runStatement(client, queryConfig(query.sql, query.parameters, inWork)));
}

function toKysely<R>(result: PgResult): QueryResult<R> {
  const { command, rowCount, rows } = result;
  const changed = command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE";
  return { numAffectedRows: changed ? BigInt(rowCount ?? 0) : undefined, rows: (rows ?? []) as R[] };
}

class ClientConnection implements DatabaseConnection {
  /** The signal of the unit of work holding the connection: once it fires, no further statement is sent. */
  signal?: AbortSignal;
  constructor(
    readonly client: PoolClient,
    /** Held by a unit of work (handleOf), not lent by the pool for one query. */
    private readonly inWork = false,
  ) {}
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    this.signal?.throwIfAborted();
    return runOn<R>(this.client, query, this.inWork);
  }
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming (a cursor) is not offered: statements run in batches (batch.ts)");
  }
}

async function begin(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
  let text = "begin";
  if (settings.isolationLevel) text += ` isolation level ${settings.isolationLevel}`;
  if (settings.accessMode) text += ` ${settings.accessMode}`;
  await connection.executeQuery(CompiledQuery.raw(text));
}

async function commit(connection: DatabaseConnection): Promise<void> {
  const result = await runStatement((connection as ClientConnection).client, transactionControl("commit"));
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
