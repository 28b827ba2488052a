import pg, { type PoolClient, type QueryResult as PgResult } from "pg";

/** One statement, as pg's QueryConfig has it. */
export interface Statement {
  text: string;
  values?: readonly unknown[];
  /** Prepared once per connection under this name (a name always means the same text: driver.ts). */
  name?: string;
  /** Sent in the extended protocol, with the others of its batch, even without parameters. */
  queryMode?: "extended";
}

/**
 * The statements a connection's holder issues in one turn of the event loop go to PostgreSQL as
 * one batch with a single Sync, so that the server reads them in one go and answers them all in
 * one write, not once per statement.
 *
 * The extended protocol lets a client send any number of Parse/Bind/Execute messages before the
 * Sync that asks for the answers (the protocol chapter's "Pipelining"). The server runs them in
 * order; the first that fails makes it skip the rest until the Sync. So each statement still gets
 * its own answer or its own error: its rows or its count, the server's error for the one that
 * failed, and for those after it an error that says so and carries the failure as its cause.
 * Statements outside a transaction block share an implicit one up to the Sync: a unit of work
 * opens its block with the first statement it sends; a connection used statement by statement
 * (awaiting each) has one per batch, as before.
 *
 * A text without parameters may hold several statements (a migration): it goes in the simple
 * protocol, on its own, in its place in the order.
 *
 * Built on node-postgres' public interface for library authors: a batch is a "submittable" (an
 * object with `submit(connection)`, handed the connection and sent the server's messages, as
 * pg-cursor is). Its rows are made by pg's exported `Result` with the client's own type parsers,
 * its values by pg's exported `utils.prepareValue`; the names a connection has prepared are kept
 * here, not in pg's state. pg sends one submittable at a time on a connection, and the next once
 * the server is ready: batches issued meanwhile wait in pg's queue, in the order they were issued.
 */
export class Batcher {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly names = new PreparedNames();

  constructor(private readonly client: PoolClient) {}

  run(statement: Statement): Promise<PgResult> {
    return new Promise<PgResult>((resolve, reject) => {
      // values are turned into their text now: one that cannot be (a cyclic object) fails its own
      // statement here, before anything of the batch is written
      const values = (statement.values ?? []).map((v) => utils.prepareValue(v));
      this.pending.push({ statement, values, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      process.nextTick(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = [];
    let batch: Pending[] = [];
    const submit = () => {
      // pg's typings know its own Query only; a submittable is its documented other kind of query
      if (batch.length > 0) this.client.query(new StatementBatch(batch, this.names, this.client) as never);
      batch = [];
    };
    for (const p of pending) {
      if (p.values.length > 0 || p.statement.queryMode === "extended") {
        batch.push(p);
        continue;
      }
      submit();
      this.client.query(p.statement.text).then(p.resolve, p.reject);
    }
    submit();
  }
}

interface Pending {
  statement: Statement;
  /** The values as pg's prepareValue makes them: text, bytes or null. */
  values: unknown[];
  resolve: (result: PgResult) => void;
  reject: (err: Error) => void;
}

/**
 * The names a connection has prepared. The server does not say which step of a failed statement
 * failed, so a name first parsed by a failed statement may or may not exist: it is closed before
 * it is parsed again (closing a name the server does not have is not an error).
 */
class PreparedNames {
  readonly ready = new Set<string>();
  readonly unsure = new Set<string>();
}

/** pg's exported Result, with the methods its own Query uses (@types/pg lists only the fields). */
interface RowBuilder extends PgResult {
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): unknown;
  addRow(row: unknown): void;
  addCommandComplete(msg: unknown): void;
}
const { Result, utils } = pg as unknown as {
  Result: new (rowMode: undefined, types: Pick<PoolClient, "getTypeParser">) => RowBuilder;
  utils: { prepareValue(value: unknown): unknown };
};

/** The connection pg hands a submittable: the protocol messages it sends, and the socket under them. */
interface Wire {
  parse(m: { text: string; name: string; types: [] }): void;
  close(m: { type: "S"; name: string }): void;
  bind(m: { statement: string; values: unknown[] }): void;
  describe(m: { type: "P"; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
  stream?: { cork(): void; uncork(): void };
}

/** A server message as pg hands it to a submittable: a row description's or a row's fields, a command tag. */
type Message = { fields?: unknown[]; text?: string };

class StatementBatch {
  private answered = 0;
  private result?: RowBuilder;
  /** Names first parsed by this batch, by the index of their statement. */
  private readonly parsedHere = new Map<number, string>();

  constructor(
    private readonly statements: Pending[],
    private readonly names: PreparedNames,
    private readonly types: Pick<PoolClient, "getTypeParser">,
  ) {}

  submit(connection: Wire): void {
    // one system call for the whole batch; the stream is the socket pg opened, which pg's own
    // queries cork the same way
    connection.stream?.cork();
    try {
      this.statements.forEach(({ statement, values }, i) => {
        const name = statement.name ?? "";
        if (!name || !this.names.ready.has(name)) {
          if (this.names.unsure.delete(name)) connection.close({ type: "S", name });
          connection.parse({ text: statement.text, name, types: [] });
          if (name) {
            this.names.ready.add(name);
            this.parsedHere.set(i, name);
          }
        }
        connection.bind({ statement: name, values });
        connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "", rows: 0 });
      });
      connection.sync();
    } finally {
      connection.stream?.uncork();
    }
  }

  // the server's messages, in order, for the statement being answered

  handleRowDescription(msg: Message): void {
    this.current().addFields(msg.fields ?? []);
  }

  handleDataRow(msg: Message): void {
    const result = this.current();
    result.addRow(result.parseRow(msg.fields ?? []));
  }

  handleCommandComplete(msg: Message): void {
    const result = this.current();
    result.addCommandComplete(msg);
    this.answer(result);
  }

  handleEmptyQuery(): void {
    this.answer(this.current());
  }

  handleError(err: Error): void {
    const failed = this.answered;
    // the server skipped the Parse of every statement after the failed one; the failed one's
    // own Parse may have been done or refused
    for (const [i, name] of this.parsedHere) {
      if (i < failed) continue;
      this.names.ready.delete(name);
      if (i === failed) this.names.unsure.add(name);
    }
    this.statements[failed]?.reject(err);
    for (const skipped of this.statements.slice(failed + 1))
      skipped.reject(new Error(`not run: a statement sent before it in the same batch failed (${err.message})`, { cause: err }));
    this.answered = this.statements.length;
  }

  handleReadyForQuery(): void {
    // every statement has been answered by now; anything else is a server that broke the protocol
    if (this.answered < this.statements.length) this.handleError(new Error("PostgreSQL answered fewer statements than it was sent"));
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  private current(): RowBuilder {
    this.result ??= new Result(undefined, this.types);
    return this.result;
  }

  private answer(result: RowBuilder): void {
    this.statements[this.answered++]?.resolve(result);
    this.result = undefined;
  }
}
