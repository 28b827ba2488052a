import fs from "node:fs";
import path from "node:path";
import { connect } from "nats";
import { freePort, natsServerBinary } from "@ticketforge/nats/servers";
import { portAcceptsConnections, waitFor } from "./postgres";
import { Supervised } from "./processes";
import { isPortFree as portIsFree } from "./stack";
import {
  createLogger,
  natsAdminUser,
  natsAuthorizationBlock,
  newNatsPassword,
  provisionJetStream,
  type BusUser,
} from "@ticketforge/common/stack";

/** A service's NATS user and password, given to it as NATS_USER / NATS_PASSWORD. */
export interface NatsCredentials {
  user: string;
  password: string;
}

export type NatsDecision =
  | { kind: "given"; url: string }
  | {
      kind: "started";
      url: string;
      store: string;
      stop: () => Promise<void>;
      credentials: Record<string, NatsCredentials>;
      /** The admin (streams, dead letters): for `npm run dead-letters`, through stack.json. */
      admin: NatsCredentials;
      /** Each node's process, restarted with back-off when it crashes. */
      nodes: Supervised[];
    }
  | { kind: "missing"; message: string };

export const natsHelp =
  "TicketForge needs NATS with JetStream. Either set NATS_URL to a server of yours, or install " +
  "nats-server so that npm start runs one of its own:\n" +
  "  Debian/Ubuntu/WSL2: sudo apt-get install nats-server\n" +
  "  macOS:              brew install nats-server\n" +
  "  Docker:             docker run -p 4222:4222 nats -js";

/** True when a JetStream-enabled server answers at url. */
export async function hasJetStream(url: string, timeout = 1_000): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout, maxReconnectAttempts: 0, reconnect: false });
    try {
      const jsm = await nc.jetstreamManager({ timeout });
      await jsm.getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/**
 * docs/design.md §6: NATS_URL if set; else nats-server from PATH, started with its store under the data directory,
 * so that a local stack's streams and consumers belong to its data directory alone (a server
 * that happens to run on 4222 holds other runs' events: joining its durable consumers would
 * redeliver events this stack's databases never heard of); else a clear message.
 */
export async function resolveNats(options: {
  natsUrl?: string;
  dataDir: string;
  port?: number;
  binary?: string | null;
  log?: (line: string) => void;
  /** The services, for the accounts of a server started here: one user each, as in production. */
  users?: BusUser[];
  /** Where the supervisor says that the server crashed and is restarted; the server's own log goes to `<store>/nats.log`. */
  out?: (line: string) => void;
}): Promise<NatsDecision> {
  if (options.natsUrl) return { kind: "given", url: options.natsUrl };
  const bin = options.binary === undefined ? natsServerBinary() : options.binary;
  if (!bin) return { kind: "missing", message: natsHelp };
  let port = options.port ?? 4222;
  if (!(await portIsFree(port))) {
    const taken = port;
    port = await freePort();
    options.log?.(`port ${taken} is taken (another NATS server?), so this stack's own nats-server listens on ${port}`);
  }
  const url = `nats://127.0.0.1:${port}`;
  const store = path.join(options.dataDir, "nats");
  fs.mkdirSync(store, { recursive: true, mode: 0o700 });
  fs.chmodSync(store, 0o700);
  const passwords = localPasswords(store, [natsAdminUser, ...(options.users ?? []).map((u) => u.service)]);
  const conf = path.join(store, "nats.conf");
  fs.writeFileSync(
    conf,
    `# Written by npm start on every start: the production accounts with this machine's passwords.\n` +
      `jetstream { store_dir: ${JSON.stringify(store)} }\n` +
      `${natsAuthorizationBlock(options.users ?? [], (user) => JSON.stringify(passwords[user]))}\n`,
    { mode: 0o600 },
  );
  const logFile = path.join(store, "nats.log");
  const server = new Supervised(
    {
      name: "nats",
      command: bin,
      // a pid file beside the store: `npm run reset` stops a server still running on it
      args: ["-c", conf, "-js", "-a", "127.0.0.1", "-p", String(port), "-P", path.join(store, "nats.pid")],
      env: process.env,
      server: { logFile },
    },
    options.out ?? ((line) => fs.appendFileSync(logFile, `${line}\n`)),
    5,
  );
  server.start();
  const ready = await waitFor(async () => server.crashes > 0 || (await portAcceptsConnections(port)), 15_000);
  if (!ready || server.crashes > 0) {
    await server.stop();
    const tail = fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-10).join("\n");
    throw new Error(`nats-server did not start on port ${port} (log: ${logFile}):\n${tail}`);
  }
  await provisionJetStream({
    url,
    user: natsAdminUser,
    password: passwords[natsAdminUser],
    services: options.users ?? [],
    log: createLogger("nats", "warn"),
  });
  const credentials = Object.fromEntries(
    (options.users ?? []).map((u) => [u.service, { user: u.service, password: passwords[u.service] }]),
  );
  return {
    kind: "started",
    url,
    store,
    credentials,
    admin: { user: natsAdminUser, password: passwords[natsAdminUser] },
    nodes: [server],
    stop: () => server.stop(5_000),
  };
}

/**
 * Waits until NATS answers at url, saying within a few seconds when it does not, and again every
 * few seconds, naming the address and what to do; resolves false when `stopped()` says to give up.
 */
export async function waitForNats(url: string, say: (line: string) => void, stopped: () => boolean = () => false): Promise<boolean> {
  let tries = 0;
  while (!stopped()) {
    if (await hasJetStream(url, 2_000)) return true;
    if (tries++ % 3 === 0) {
      say(
        `NATS at ${url} does not answer with JetStream${tries > 1 ? " (still waiting)" : ""}: is it running, with -js? ` +
          "Fix NATS_URL, or unset it so that npm start runs its own nats-server. Waiting… (Ctrl-C stops)",
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return false;
}

/**
 * The passwords of the local server's users, generated on the first start and kept under the
 * data directory (readable by this user only), so a restart keeps its accounts.
 */
function localPasswords(store: string, users: string[]): Record<string, string> {
  const file = path.join(store, "passwords.json");
  const known: Record<string, string> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  let changed = false;
  for (const user of users) {
    if (known[user]) continue;
    known[user] = newNatsPassword();
    changed = true;
  }
  if (changed) fs.writeFileSync(file, JSON.stringify(known, null, 2), { mode: 0o600 });
  return known;
}
