import path from "node:path";
import { ensureDatabases, startEmbeddedPostgres, type EmbeddedPostgres } from "./postgres";
import { ensureServiceRoles, roleUrl } from "./roles";
import { secretFor } from "./settings";
import { serviceEntry } from "../services";

export const defaultPostgresPort = 54320;

export interface Databases {
  /** Each service's connection string. */
  urls: Record<string, string>;
  /** What the start-up lines say about where the data is. */
  describe: string[];
  /** The embedded server, when this launcher runs one. */
  embedded?: EmbeddedPostgres;
}

/**
 * Which database each service uses: `<SERVICE>_DATABASE_URL` if set; else, when DATABASE_URL
 * names a PostgreSQL server, a database of its own on it (`<name>_<database>`, created if missing:
 * every service has outbox and inbox tables, so they cannot share one); else a database of its
 * own on the embedded PostgreSQL server under `<dataDir>/postgres`, started here. The database's
 * name is the service's `database` in services.json.
 */
export async function prepareDatabases(
  services: readonly string[],
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: (line: string) => void,
  /** Where the supervisor says that the embedded server crashed and is restarted. */
  out?: (line: string) => void,
): Promise<Databases> {
  const urls: Record<string, string> = {};
  const describe: string[] = [];
  const embeddedFor: string[] = [];
  for (const s of services) {
    const url = await serviceDatabaseUrl(s, env);
    if (url) {
      urls[s] = url;
      describe.push(`${s}: PostgreSQL ${new URL(url).host}${new URL(url).pathname}`);
    } else embeddedFor.push(s);
  }
  if (embeddedFor.length === 0) return { urls, describe };

  const port = Number(env.POSTGRES_PORT || defaultPostgresPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`POSTGRES_PORT must be a port number (got "${env.POSTGRES_PORT}")`);
  const started = Date.now();
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, "postgres"),
    port,
    password: secretFor(dataDir, "postgres-password"),
    log,
    out,
  });
  // each service connects as its own role (named after its database), which owns its database
  // and can reach no other
  const roles = Object.fromEntries(embeddedFor.map((s) => [serviceEntry(s).database, secretFor(dataDir, `postgres-${s}-password`)]));
  await ensureServiceRoles(embedded.url, roles);
  for (const s of embeddedFor) urls[s] = roleUrl(embedded.url, serviceEntry(s).database, roles[serviceEntry(s).database]);
  describe.push(
    `databases: embedded PostgreSQL on 127.0.0.1:${port}${embedded.socketDir ? " (the services use its Unix socket)" : ""}, data in ${path.join(dataDir, "postgres")} ` +
      `(${embedded.initialised ? "created" : "started"} in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `one database and role each for ${embeddedFor.join(", ")}; set DATABASE_URL to use another server)`,
  );
  return { urls, describe, embedded };
}

export async function serviceDatabaseUrl(service: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const own = env[`${service.toUpperCase()}_DATABASE_URL`];
  if (own) return own;
  const shared = env.DATABASE_URL;
  if (!shared) return undefined;
  const url = new URL(shared);
  const base = url.pathname.replace(/^\//, "") || "ticketforge";
  const name = `${base}_${serviceEntry(service).database}`.replace(/[^a-zA-Z0-9_]/g, "_");
  const admin = new URL(shared);
  admin.pathname = "/postgres"; // the named database may not exist yet
  try {
    await ensureDatabases(admin.toString(), [name]);
  } catch (err) {
    throw new Error(`Cannot prepare database ${name} on ${url.host}: ${(err as Error).message}`);
  }
  url.pathname = `/${name}`;
  return url.toString();
}
