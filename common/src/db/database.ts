import fs from "node:fs";
import path from "node:path";
import { Kysely, PGliteDialect, PostgresDialect, sql, type Transaction } from "kysely";
import type { PGlite } from "@electric-sql/pglite";
import type { Pool } from "pg";

/** The query layer: Kysely over PGlite (embedded) or PostgreSQL, with the same SQL for both. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tx = Transaction<any>;
export type Queryable = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: "pglite" | "postgres";
  /** Describes where the data is, for logs (never includes a password). */
  readonly location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DatabaseLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `The database in ${dir} is already open by process ${pid}. ` +
        `An embedded (PGlite) database can be used by one process only: stop the other process ` +
        `(or a second "npm start"), or set DATABASE_URL to use PostgreSQL.`,
    );
    this.name = "DatabaseLockedError";
  }
}

export interface OpenOptions {
  /** PostgreSQL connection string; when absent an embedded PGlite is used. */
  url?: string;
  /** Directory of the embedded database; absent means in memory. */
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openPGlite(options.dataDir);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { Pool } = await import("pg");
  const pool: Pool = new Pool({ connectionString: url, max });
  // Idle clients can error when the server restarts; without a listener that would crash the process.
  pool.on("error", () => undefined);
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  const location = redact(url);
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new Error(`Cannot reach PostgreSQL at ${location}: ${(err as Error).message}`);
  }
  return {
    db,
    kind: "postgres",
    location,
    ping: async () => void (await sql`select 1`.execute(db)),
    close: () => db.destroy(),
  };
}

async function openPGlite(dataDir?: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  let release = () => undefined as void;
  let pgDir: string | undefined;
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true });
    release = lockDir(dataDir);
    pgDir = path.join(dataDir, "pgdata");
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(pgDir ? { dataDir: pgDir } : {});
  } catch (err) {
    release();
    throw err;
  }
  const db: Db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: "pglite",
    location: pgDir ? path.resolve(pgDir) : "memory",
    ping: async () => void (await sql`select 1`.execute(db)),
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
      release();
    },
  };
}

/**
 * PGlite has no lock of its own: two processes on one directory silently lose writes.
 * A lock file holding the owner's pid refuses the second opener; a lock left by a dead process is taken over.
 */
export function lockDir(dir: string): () => void {
  const file = path.join(dir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return () => {
        try {
          if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(fs.readFileSync(file, "utf8"));
      if (pid && pid !== process.pid && isAlive(pid)) throw new DatabaseLockedError(dir, pid);
      if (pid === process.pid) throw new DatabaseLockedError(dir, pid);
      fs.unlinkSync(file); // stale: its owner died without releasing it
    }
  }
  throw new Error(`Cannot lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres";
  }
}

/** True when a query failed on a unique constraint (PostgreSQL and PGlite report the same code). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code !== "23505") return false;
  return constraint === undefined || e.constraint === constraint || (e.message ?? "").includes(constraint);
}
