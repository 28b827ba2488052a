// Jest global set-up and tear-down of the database suites: one PostgreSQL server per test run.
// Projects that need a database name these in their jest.config.js (through jest.preset.js's
// `withDatabase`); Jest runs every project's set-up before the first test and every tear-down
// after the last, so the first set-up starts the server and the first tear-down stops it.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres, testSettings, type EmbeddedPostgres } from "../launcher/postgres";
import { freePort } from "@ticketforge/nats";

interface RunState {
  server?: EmbeddedPostgres;
  dir?: string;
  done?: boolean;
}
const state = ((globalThis as { __tfTestDatabase?: RunState }).__tfTestDatabase ??= {});

export async function setup(globalConfig?: { maxWorkers?: number }): Promise<void> {
  process.env.TF_TEST_RUN ??= randomBytes(4).toString("hex");
  if (!process.env.TEST_DATABASE_URL) await startServer();
  // a server of the user's, or started by an earlier project's set-up
  process.env.TEST_CONNECTIONS_PER_WORKER ??= String(
    await connectionsPerWorker(process.env.TEST_DATABASE_URL!, globalConfig?.maxWorkers ?? 1),
  );
}

/**
 * The connections each Jest worker may open on the run's server: what it admits now, shared
 * evenly. A stack of services sizes its pools by it (e2e/stack.ts), so that the workers'
 * stacks together stay under the server's max_connections (a machine's PostgreSQL often keeps the
 * default 100, where two stacks with ten connections per service already do not fit).
 */
async function connectionsPerWorker(url: string, workers: number): Promise<number> {
  const { Client } = await import("pg");
  const client = new Client({ connectionString: url });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ free: number }>(
      `select current_setting('max_connections')::int
         - (case when (select rolsuper from pg_roles where rolname = current_user) then 0
                 else current_setting('superuser_reserved_connections')::int end)
         - (select count(*) from pg_stat_activity where backend_type = 'client backend')::int + 1 as free`,
    );
    return Math.max(1, Math.floor(rows[0].free / Math.max(1, workers)));
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startServer(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-test-pg-"));
  fs.chmodSync(dir, 0o755); // as root the server runs as `postgres`, which must reach its data dir
  state.dir = dir;
  const started = Date.now();
  state.server = await startEmbeddedPostgres({
    dataDir: path.join(dir, "data"),
    port: await freePort(),
    password: randomBytes(12).toString("hex"),
    settings: testSettings,
  });
  process.env.TEST_DATABASE_URL = state.server.url;
  if (process.env.TEST_LOG_LEVEL) process.stdout.write(`embedded PostgreSQL for this run ready in ${Date.now() - started} ms\n`);
}

export async function teardown(): Promise<void> {
  if (state.done) return;
  state.done = true;
  const url = process.env.TEST_DATABASE_URL;
  if (!state.server && url) {
    // a server of the user's: drop the templates of this run, leave the rest
    const { Client } = await import("pg");
    const client = new Client({ connectionString: url });
    client.on("error", () => undefined);
    try {
      await client.connect();
      const prefix = `tf_tpl_${process.env.TF_TEST_RUN}_`;
      const { rows } = await client.query("select datname from pg_database where starts_with(datname, $1)", [prefix]);
      for (const r of rows) await client.query(`drop database if exists ${client.escapeIdentifier(r.datname)} with (force)`);
    } finally {
      await client.end().catch(() => undefined);
    }
    return;
  }
  await state.server?.stop();
  if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
}
