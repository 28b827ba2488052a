import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { connect } from "nats";
import { natsServerBinary, waitForPort } from "@ticketforge/nats";
import {
  createLogger,
  natsAdminUser,
  natsAuthorizationBlock,
  newNatsPassword,
  provisionJetStream,
  type BusUser,
} from "@ticketforge/common";

/** A service's NATS user and password, given to it as NATS_USER / NATS_PASSWORD. */
export interface NatsCredentials {
  user: string;
  password: string;
}

export type NatsDecision =
  | { kind: "given"; url: string }
  | { kind: "found"; url: string }
  | { kind: "started"; url: string; stop: () => Promise<void>; credentials: Record<string, NatsCredentials> }
  | { kind: "missing"; message: string };

export const natsHelp =
  "TicketForge needs NATS with JetStream. Either set NATS_URL, run a server on 127.0.0.1:4222 " +
  "(nats-server -js), or install nats-server so it can be started for you:\n" +
  "  Debian/Ubuntu: sudo apt-get install nats-server\n" +
  "  macOS:         brew install nats-server\n" +
  "  Docker:        docker run -p 4222:4222 nats -js";

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
 * DESIGN §6: NATS_URL if set; else a JetStream server already on 127.0.0.1:4222; else nats-server
 * from PATH with its store under the data dir; else a clear message.
 */
export async function resolveNats(options: {
  natsUrl?: string;
  dataDir: string;
  defaultUrl?: string;
  port?: number;
  binary?: string | null;
  log?: (line: string) => void;
  /** The services, for the accounts of a server started here: one user each, as in production. */
  users?: BusUser[];
}): Promise<NatsDecision> {
  if (options.natsUrl) return { kind: "given", url: options.natsUrl };
  const port = options.port ?? 4222;
  const url = options.defaultUrl ?? `nats://127.0.0.1:${port}`;
  if (await hasJetStream(url)) return { kind: "found", url };
  const bin = options.binary === undefined ? natsServerBinary() : options.binary;
  if (!bin) return { kind: "missing", message: natsHelp };
  const store = path.join(options.dataDir, "nats");
  fs.mkdirSync(store, { recursive: true });
  const passwords = localPasswords(store, [natsAdminUser, ...(options.users ?? []).map((u) => u.service)]);
  const conf = path.join(store, "nats.conf");
  fs.writeFileSync(
    conf,
    `# Written by npm start on every start: the production accounts with this machine's passwords.\n` +
      `jetstream { store_dir: ${JSON.stringify(store)} }\n` +
      `${natsAuthorizationBlock(options.users ?? [], (user) => JSON.stringify(passwords[user]))}\n`,
    { mode: 0o600 },
  );
  const child = spawn(bin, ["-c", conf, "-js", "-a", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output = (output + d).slice(-4_000)));
  child.stderr?.on("data", (d) => (output = (output + d).slice(-4_000)));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`nats-server exited (${code}): ${output}`))));
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 15_000), exited]);
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
    credentials,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
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
