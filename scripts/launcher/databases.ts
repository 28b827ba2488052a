/**
 * Which database a service uses: `<SERVICE>_DATABASE_URL` if set; else, when DATABASE_URL names a
 * PostgreSQL server, a database of its own on it (`<name>_<service>`, created if missing: every
 * service has outbox and inbox tables, so they cannot share one); else none (embedded PGlite).
 */
export async function serviceDatabaseUrl(service: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const own = env[`${service.toUpperCase()}_DATABASE_URL`];
  if (own) return own;
  const shared = env.DATABASE_URL;
  if (!shared) return undefined;
  const url = new URL(shared);
  const base = url.pathname.replace(/^\//, "") || "ticketforge";
  const name = `${base}_${service}`.replace(/[^a-zA-Z0-9_]/g, "_");
  await createDatabaseIfMissing(shared, name);
  url.pathname = `/${name}`;
  return url.toString();
}

async function createDatabaseIfMissing(serverUrl: string, name: string): Promise<void> {
  const { Client } = await import("pg");
  const admin = new URL(serverUrl);
  admin.pathname = "/postgres"; // the named database may not exist yet
  const client = new Client({ connectionString: admin.toString() });
  try {
    await client.connect();
    const exists = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (exists.rowCount === 0) await client.query(`create database ${name}`);
  } catch (err) {
    throw new Error(`Cannot prepare database ${name} on ${new URL(serverUrl).host}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
