import fs from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import type { Kysely } from "kysely";

/** The tables of the shared machinery (outbox, inbox, entity versions), applied before a service's own. */
export const commonMigrationsDir = path.join(__dirname, "migrations");

/**
 * Applies plain-SQL migrations (`NNN_name.sql`, in name order) that are not yet recorded.
 * Each runs in its own transaction under an advisory lock, so replicas starting together
 * apply each migration exactly once.
 */
export interface MigrationSet {
  /** Recorded with each file name, so that two sets may both have a 001_*.sql. */
  scope: string;
  dir: string;
}

export async function migrate<DB>(db: Kysely<DB>, sets: MigrationSet[]): Promise<string[]> {
  await sql`create table if not exists schema_migrations (
    name text primary key,
    applied_at timestamptz not null default now()
  )`.execute(db);
  const applied: string[] = [];
  for (const { scope, dir } of sets) {
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    for (const file of files) {
      const name = `${scope}/${file}`;
      const text = fs.readFileSync(path.join(dir, file), "utf8");
      const done = await db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(7261001)`.execute(tx);
        const seen = await sql`select 1 from schema_migrations where name = ${name}`.execute(tx);
        if (seen.rows.length > 0) return false;
        for (const statement of statements(text)) await sql.raw(statement).execute(tx);
        await sql`insert into schema_migrations (name) values (${name})`.execute(tx);
        return true;
      });
      if (done) applied.push(name);
    }
  }
  return applied;
}

/**
 * Splits a file into statements at a `;` that ends a line, so that each runs as its own query
 * and an error names the statement. Dollar-quoted bodies are not split.
 */
export function statements(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let inDollar = false;
  for (const line of text.split("\n")) {
    if (/^\s*--/.test(line) && current.trim() === "") continue;
    current += line + "\n";
    if ((line.match(/\$\$/g) ?? []).length % 2 === 1) inDollar = !inDollar;
    if (!inDollar && /;\s*(--.*)?$/.test(line)) {
      out.push(current.trim());
      current = "";
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
