/**
 * One PostgreSQL role per service on the embedded server, owning its own database and nothing
 * else: no superuser, no CREATEDB or CREATEROLE, no CONNECT to another service's database. A
 * compromised service then cannot read auth's password hashes (`\c auth`) nor run shell commands
 * through `COPY … TO PROGRAM` (superusers and pg_execute_server_program only).
 */
export async function ensureServiceRoles(adminUrl: string, roles: Record<string, string>): Promise<void> {
  const { Client } = await import("pg");
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const id = (s: string) => admin.escapeIdentifier(s);
    const literal = (s: string) => admin.escapeLiteral(s);
    // nobody but the superuser connects to the maintenance database
    await admin.query("revoke connect, temporary on database postgres from public");
    for (const [name, password] of Object.entries(roles)) {
      const exists = (await admin.query("select 1 from pg_roles where rolname = $1", [name])).rowCount! > 0;
      await admin.query(
        `${exists ? "alter" : "create"} role ${id(name)} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${literal(password)}`,
      );
      const db = await admin.query<{ owner: string }>("select pg_get_userbyid(datdba) as owner from pg_database where datname = $1", [
        name,
      ]);
      if (db.rowCount === 0) await admin.query(`create database ${id(name)} owner ${id(name)}`);
      else if (db.rows[0].owner !== name) await admin.query(`alter database ${id(name)} owner to ${id(name)}`);
      await admin.query(`revoke connect, temporary on database ${id(name)} from public`);
      await handOver(adminUrl, name);
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * Gives the service's role what a cluster made before roles existed left to the superuser in its
 * database: its schema, tables, sequences, views and functions (run by the superuser, in that
 * database). REASSIGN OWNED cannot do it: the bootstrap superuser also owns the system catalogs.
 */
async function handOver(adminUrl: string, name: string): Promise<void> {
  const { Client } = await import("pg");
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const role = client.escapeIdentifier(name);
    await client.query(`alter schema public owner to ${role}`);
    const objects = await client.query<{ statement: string }>(
      `select format('alter %s %s owner to %I',
                case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
                c.oid::regclass, $1::text) as statement
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S') and pg_get_userbyid(c.relowner) <> $1
          -- a sequence owned by a column follows its table
          and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
       union all
       select format('alter function %s owner to %I', p.oid::regprocedure, $1::text)
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> $1`,
      [name],
    );
    for (const { statement } of objects.rows) await client.query(statement);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The connection string of a service's own database as its own role. */
export function roleUrl(serverUrl: string, role: string, password: string): string {
  const url = new URL(serverUrl);
  url.username = role;
  url.password = password;
  url.pathname = `/${role}`;
  return url.toString();
}
