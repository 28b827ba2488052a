import fs from "node:fs";
import path from "node:path";
import { DatabaseLockedError, lockDir } from "@ticketforge/common";
import { resolveNats } from "./nats";
import { busUsers } from "./bus-users";
import { root } from "./processes";
import { isPortFree, services, startStack, type Ports } from "./stack";
import { jwtKeyFor, portsFrom } from "./settings";

const out = (line: string) => process.stdout.write(`${line}\n`);
const say = (line: string) => out(process.stdout.isTTY ? `\x1b[1m▸ ${line}\x1b[0m` : `> ${line}`);

async function main() {
  const started = Date.now();
  const envFile = path.join(root, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile); // variables already set win
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "development" };
  const dataDir = path.resolve(root, env.DATA_DIR ?? ".data");
  fs.mkdirSync(dataDir, { recursive: true });

  let release: () => void;
  try {
    release = lockDir(dataDir);
  } catch (err) {
    if (err instanceof DatabaseLockedError) {
      out(`TicketForge is already running on this data directory (${dataDir}): ${err.message.split(". ")[0].replace(/^The database in \S+ is/, "it is")}.`);
      out("Stop the other `npm start` first (Ctrl-C in its terminal), or set DATA_DIR to another directory.");
      process.exit(1);
    }
    throw err;
  }

  const ports = portsFrom(env);
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      out(`Port ${port} (${name}) is already in use. Set ${name.toUpperCase()}_PORT to a free port (see .env.example).`);
      release();
      process.exit(1);
    }
  }

  const nats = await resolveNats({ natsUrl: env.NATS_URL, dataDir, users: busUsers });
  if (nats.kind === "missing") {
    out(nats.message);
    release();
    process.exit(1);
  }
  say(
    {
      given: `NATS: using NATS_URL ${nats.url}`,
      found: `NATS: using the JetStream server already running at ${nats.url}`,
      started: `NATS: started nats-server -js at ${nats.url} with one user per service (store and passwords in ${path.join(dataDir, "nats")})`,
    }[nats.kind],
  );
  for (const s of services) {
    const url = env[`${s.toUpperCase()}_DATABASE_URL`] ?? env.DATABASE_URL;
    if (!url) continue;
    say(`${s}: PostgreSQL ${new URL(url).host}`);
  }
  if (!env.DATABASE_URL) say(`databases: embedded PGlite under ${dataDir}/<service> (set DATABASE_URL to use PostgreSQL)`);

  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping everything…`);
    const force = setTimeout(() => {
      out("some processes did not stop in time; exiting");
      process.exit(1);
    }, 10_000);
    await stack?.stop();
    if (nats.kind === "started") await nats.stop();
    release();
    clearTimeout(force);
    say("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  const withClient = env.START_CLIENT !== "false";
  try {
    stack = await startStack({
      dataDir,
      natsUrl: nats.url,
      jwtKey: jwtKeyFor(dataDir, env),
      ports,
      env,
      client: withClient,
      out,
      natsCredentials: nats.kind === "started" ? nats.credentials : undefined,
    });
  } catch (err) {
    out(`TicketForge did not start: ${(err as Error).message}`);
    if (nats.kind === "started") await nats.stop();
    release();
    process.exit(1);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const width = 46;
  const line = (s: string) => out(`│ ${s.padEnd(width)} │`);
  out(`┌${"─".repeat(width + 2)}┐`);
  line(`TicketForge is ready in ${seconds} s`);
  line("");
  line(`Open  http://localhost:${ports.gateway}`);
  line("");
  for (const [name, ms] of Object.entries(stack.readyMs)) line(`  ${name.padEnd(11)} :${ports[name as keyof Ports]}  ready after ${(ms / 1000).toFixed(1)} s`);
  line("");
  line("Ctrl-C stops everything; data stays in .data/");
  out(`└${"─".repeat(width + 2)}┘`);
}

void main();
