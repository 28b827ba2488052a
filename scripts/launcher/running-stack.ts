import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { isAlive } from "./lock";
import { root } from "./processes";
import type { Ports } from "./stack";

/** A service's or the admin's NATS user and password. */
export interface NatsLogin {
  user: string;
  password: string;
}

/**
 * What a running `npm start` (or root `npm run dev`) tells the tools that join it, in
 * DATA_DIR/stack.json (readable by this user only): `npm run dev` in a service's folder,
 * `npm run status` and `npm run dead-letters` read it instead of guessing ports, so none of
 * them can reach a stranger's server on 4222 when the stack's own nats-server moved elsewhere.
 */
export interface StackFile {
  natsUrl: string;
  /** Present when the launcher started the NATS server (its accounts); absent with NATS_URL given. */
  nats?: { services: Record<string, NatsLogin>; admin: NatsLogin };
  databaseUrls: Record<string, string>;
  ports: Ports;
}

export const stackFileIn = (dataDir: string) => path.join(dataDir, "stack.json");

/** The data directory as the launcher resolves it: DATA_DIR (environment, then .env), else .data. */
export function dataDirFrom(env: NodeJS.ProcessEnv = process.env): string {
  let dir = env.DATA_DIR;
  const envFile = path.join(root, ".env");
  if (!dir && fs.existsSync(envFile)) dir = util.parseEnv(fs.readFileSync(envFile, "utf8")).DATA_DIR;
  return path.resolve(root, dir || ".data");
}

export type RunningStack = StackFile & { dataDir: string; pid: number };

/**
 * The stack running on dataDir, or the sentence that says why there is none: the launcher holds
 * DATA_DIR/lock while it runs and writes stack.json once NATS and the databases are up; a
 * stack.json left by a launcher that was killed is not a running stack.
 */
export function findRunningStack(dataDir: string): RunningStack | { missing: string } {
  const start = "Start it first in another terminal: npm start (or set DATA_DIR to the data directory of the stack you mean).";
  const lock = path.join(dataDir, "lock");
  const pid = fs.existsSync(lock) ? Number(fs.readFileSync(lock, "utf8")) : 0;
  if (!pid || !isAlive(pid)) return { missing: `No TicketForge stack is running on ${dataDir}. ${start}` };
  const file = stackFileIn(dataDir);
  if (!fs.existsSync(file))
    return { missing: `The TicketForge stack on ${dataDir} (process ${pid}) is still starting: try again when it says it is ready.` };
  return { ...(JSON.parse(fs.readFileSync(file, "utf8")) as StackFile), dataDir, pid };
}

/**
 * The NATS server and admin login an operator tool (`npm run dead-letters`, `npm run
 * provision-nats`) uses: NATS_URL (with NATS_USER / NATS_PASSWORD) when set, else the stack
 * running on DATA_DIR. Never a default port: there another server may be listening.
 */
export function adminNatsServer(
  env: NodeJS.ProcessEnv,
): { url: string; user?: string; password?: string; from: string } | { missing: string } {
  if (env.NATS_URL) return { url: env.NATS_URL, user: env.NATS_USER, password: env.NATS_PASSWORD, from: "NATS_URL" };
  const dataDir = dataDirFrom(env);
  const stack = findRunningStack(dataDir);
  if ("missing" in stack)
    return {
      missing: `${stack.missing}
Or set NATS_URL (and NATS_USER / NATS_PASSWORD) to reach another server.`,
    };
  const login = stack.nats?.admin ?? { user: env.NATS_USER, password: env.NATS_PASSWORD };
  return { url: stack.natsUrl, ...login, from: `the stack running on ${dataDir}` };
}
