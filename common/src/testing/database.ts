import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import pino from "pino";
import { openDatabase, type Database } from "../db/database";
import { OutboxRelay } from "../outbox";
import { workPipeline, type UnitOfWork, type Work } from "../unit-of-work";
import { commonMigrationsDir, migrate, type MigrationSet } from "../db/migrate";

/**
 * Test databases. One PostgreSQL server serves a whole test run: the embedded server that the
 * Jest global set-up starts, or the server named by TEST_DATABASE_URL. Each service's schema is
 * migrated once per run into a template database, and every test file gets its own database
 * cloned from that template (`CREATE DATABASE … TEMPLATE …`), dropped when the file is done.
 */
function server(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "No test database server: run the suites with `npm test` (its global set-up starts an embedded PostgreSQL), " +
        "or set TEST_DATABASE_URL to a PostgreSQL server where databases may be created.",
    );
  }
  return url;
}

function urlOf(name: string): string {
  const url = new URL(server());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Names of this run's templates start with this, so that the tear-down drops exactly them. */
export function templatePrefix(): string {
  return `tf_tpl_${process.env.TF_TEST_RUN ?? "run"}_`;
}

async function withAdmin<T>(fn: (client: import("pg").Client) => Promise<T>): Promise<T> {
  const { Client } = await import("pg");
  const client = new Client({ connectionString: server() });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const templates = new Map<string, Promise<string>>();

/** The template of a schema, made once per run; test workers take turns under an advisory lock. */
function template(scope: string, sets: MigrationSet[]): Promise<string> {
  const name = `${templatePrefix()}${scope}`.replace(/[^a-z0-9_]/g, "_").slice(0, 63);
  let made = templates.get(name);
  if (!made) {
    made = withAdmin(async (admin) => {
      await admin.query("select pg_advisory_lock(hashtext($1))", [name]);
      try {
        const exists = await admin.query("select 1 from pg_database where datname = $1", [name]);
        if (exists.rowCount === 0) {
          await admin.query(`create database ${name}`);
          const db = await openDatabase({ url: urlOf(name), poolSize: 1 });
          try {
            await migrate(db.db, sets);
          } finally {
            await db.close();
          }
        }
      } finally {
        await admin.query("select pg_advisory_unlock(hashtext($1))", [name]);
      }
      return name;
    });
    made.catch(() => templates.delete(name));
    templates.set(name, made);
  }
  return made;
}

export interface SchemaOf {
  name: string;
  migrationsDir: string;
}

/**
 * A database of its own for one test file, with the tables of `service` (and of common) already
 * there; without a service, common's tables only. Its pool holds `poolSize` connections (5).
 * `close()` drops it.
 */
export async function openTestDatabase(service?: SchemaOf, options: { poolSize?: number } = {}): Promise<Database> {
  const sets: MigrationSet[] = [{ scope: "common", dir: commonMigrationsDir }];
  if (service) sets.push({ scope: service.name, dir: service.migrationsDir });
  const source = await template(service?.name ?? "common", sets);
  const name = `tf_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((admin) => admin.query(`create database ${name} template ${source}`));
  const db = await openDatabase({ url: urlOf(name), poolSize: options.poolSize ?? 5 });
  return {
    ...db,
    close: async () => {
      await db.close();
      await withAdmin((admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** The URL of a new, empty database on the test server, and how to drop it. */
export async function createTestDatabase(prefix = "tf_test"): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin((admin) => admin.query(`create database ${name}`));
  return {
    url: urlOf(name),
    drop: () => withAdmin((admin) => admin.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/**
 * The unit-of-work pipeline on a test database without a service: events written by its units of
 * work are handed to `publish` after the commit (dropped by default).
 */
export function workOn<DB>(
  database: Database<DB>,
  publish: (subject: string, body: Uint8Array) => Promise<unknown> = async () => undefined,
): Work<DB> {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const relay = new OutboxRelay({ db: database.db, publish, log });
  return workPipeline<DB>({ database, relay, log }, []);
}

/**
 * Runs `fn` in a unit of work and leaves it open, uncommitted, until `commit()`: what a
 * concurrent transaction waits for. Every statement it sent has been answered when this returns.
 */
export async function openTransaction<DB>(work: Work<DB>, fn: (uow: UnitOfWork<DB>) => unknown): Promise<{ commit(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const done = work(async (uow) => {
    await fn(uow);
    // answered in order: once this is, everything sent before it has been too
    await sql`select 1`.execute(uow.db);
    started();
    await held;
  });
  await Promise.race([ready, done]);
  return {
    commit: async () => {
      release();
      await done;
    },
  };
}
