import fs from "node:fs";
import path from "node:path";
import { compactHeap } from "@ticketforge/common/stack";
import { prepareDatabases, type Databases } from "./databases";
import { DataDirLockedError, lockDir } from "./lock";
import { stopLeftServers } from "./left-servers";
import { resolveNats, waitForNats } from "./nats";
import { resolveNatsCluster } from "./nats-cluster";
import { busUsers } from "./bus-users";
import { root } from "./processes";
import { stackFileIn, type StackFile } from "./running-stack";
import { serviceRuntime } from "./runtime";
import { isPortFree, replicaPorts, services, startStack, type Ports } from "./stack";
import { sessionKeysFor } from "./session-keys";
import { protectDataDir, runsAsRoot } from "./data-dir";
import { listenHost, mailCatcherFrom, natsClusterFrom, passesSigningKeyFor, portsFrom, replicasFrom } from "./settings";

const out = (line: string) => process.stdout.write(`${line}\n`);
const say = (line: string) => out(process.stdout.isTTY ? `\x1b[1m▸ ${line}\x1b[0m` : `> ${line}`);

async function main() {
  const started = Date.now();
  const dev = process.argv.includes("--dev");
  const envFile = path.join(root, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile); // variables already set win
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "development" };
  const dataDir = path.resolve(root, env.DATA_DIR ?? ".data");
  protectDataDir(dataDir, { traversableByPostgres: runsAsRoot() });

  let release: () => void;
  try {
    release = lockDir(dataDir);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      out(`TicketForge is already running on this data directory (${dataDir}): it is in use by process ${err.pid}.`);
      out("Stop the other `npm start` first (Ctrl-C in its terminal), or set DATA_DIR to another directory.");
      process.exit(1);
    }
    throw err;
  }

  // servers a killed launcher left behind (their watchdogs killed too) hold this stack's ports
  await stopLeftServers(dataDir, say);

  const ports = portsFrom(env);
  let replicas: number;
  let clusterSize: number;
  try {
    replicas = replicasFrom(env);
    clusterSize = natsClusterFrom(env);
  } catch (err) {
    out((err as Error).message);
    release();
    process.exit(1);
  }
  const extraPorts = Object.entries(replicaPorts(ports, replicas)).flatMap(([name, list]) =>
    list.slice(1).map((p, i) => [`${name} replica ${i + 2}`, p] as const),
  );
  for (const [name, port] of [...Object.entries(ports), ...extraPorts]) {
    if (!(await isPortFree(port))) {
      const setting = name.includes(" replica ")
        ? `${name.split(" ")[0].toUpperCase()}_PORT (replica i uses that port + 100·i) or fewer REPLICAS`
        : `${name.toUpperCase()}_PORT to a free port`;
      out(`Port ${port} (${name}) is already in use. Set ${setting} (see .env.example).`);
      release();
      process.exit(1);
    }
  }

  const nats =
    clusterSize > 1 && !env.NATS_URL
      ? await resolveNatsCluster({
          size: clusterSize,
          dataDir,
          users: busUsers,
          out,
          port: env.NATS_PORT ? Number(env.NATS_PORT) : undefined,
        })
      : await resolveNats({
          natsUrl: env.NATS_URL,
          dataDir,
          port: env.NATS_PORT ? Number(env.NATS_PORT) : undefined,
          log: say,
          users: busUsers,
          out,
        });
  // streams replicated on every node of the cluster (at most 3, as in production), unless set
  if (clusterSize > 1) env.NATS_STREAM_REPLICAS ??= String(Math.min(3, clusterSize));
  if (nats.kind === "missing") {
    out(nats.message);
    release();
    process.exit(1);
  }
  say(
    ("describe" in nats && typeof nats.describe === "string" && nats.describe) ||
      {
        given: `NATS: using NATS_URL ${nats.url}`,
        started: `NATS: started nats-server -js at ${nats.url} with one user per service (store and passwords in ${path.join(dataDir, "nats")})`,
      }[nats.kind],
  );
  if (nats.kind === "given") {
    let interrupted = false;
    const stopWaiting = () => (interrupted = true);
    process.once("SIGINT", stopWaiting);
    process.once("SIGTERM", stopWaiting);
    const reachable = await waitForNats(nats.url, say, () => interrupted);
    process.off("SIGINT", stopWaiting);
    process.off("SIGTERM", stopWaiting);
    if (!reachable) {
      release();
      process.exit(1);
    }
  }
  let databases: Databases;
  try {
    databases = await prepareDatabases(services, env, dataDir, say, out);
  } catch (err) {
    out(`TicketForge did not start: ${(err as Error).message}`);
    if (nats.kind === "started") await nats.stop();
    release();
    process.exit(1);
  }
  for (const line of databases.describe) say(line);
  const runtime = serviceRuntime();
  say(`Node.js: the services run on ${runtime.version}, from ${runtime.source}`);

  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping everything…`);
    const force = setTimeout(() => {
      out("some processes did not stop in time; exiting");
      process.exit(1);
    }, 20_000);
    await stack?.stop();
    // the database stops after the services, so that their in-flight work can commit
    await databases.embedded?.stop();
    if (nats.kind === "started") await nats.stop();
    fs.rmSync(stackFileIn(dataDir), { force: true });
    release();
    clearTimeout(force);
    say("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // npm runs a script through a shell (npm → sh → this process). A SIGTERM sent to npm alone (a
  // process manager, an editor's stop button, `kill <pid of npm>`) is forwarded to that shell,
  // which exits without passing it on: the whole stack would keep running, with nobody left to
  // stop it. Started from an npm script, the launcher stops as on SIGTERM once its parent is gone.
  if (process.env.npm_lifecycle_event) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void shutdown("the npm process that started it is gone");
    }, 500).unref();
  }

  const withClient = env.START_CLIENT !== "false";
  const skip = (env.SKIP_SERVICES ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = skip.filter((s) => !(services as readonly string[]).includes(s));
  if (unknown.length > 0) out(`SKIP_SERVICES names no service: ${unknown.join(", ")} (services: ${services.join(", ")})`);
  const sessionKeys = sessionKeysFor(dataDir, env);
  env.PASSES_SIGNING_KEY = passesSigningKeyFor(dataDir, env);
  let mail;
  try {
    mail = mailCatcherFrom(env, dataDir);
  } catch (err) {
    out((err as Error).message);
    process.exit(1);
  }
  // what `npm run dev` in a service's folder, `npm run status` and `npm run dead-letters` need
  // to join this stack (scripts/launcher/running-stack.ts): passwords, so this user's eyes only
  const stackFile: StackFile = {
    natsUrl: nats.url,
    ...(nats.kind === "started" && { nats: { services: nats.credentials, admin: nats.admin } }),
    databaseUrls: databases.urls,
    ports,
  };
  fs.writeFileSync(stackFileIn(dataDir), JSON.stringify(stackFile, null, 2), { mode: 0o600 });
  fs.chmodSync(stackFileIn(dataDir), 0o600); // a file left by a killed launcher keeps its old mode
  try {
    stack = await startStack({
      natsUrl: nats.url,
      sessionKeys,
      host: listenHost(env),
      ports,
      env,
      databaseUrls: databases.urls,
      client: withClient,
      out,
      dev,
      skip,
      replicas,
      natsCredentials: nats.kind === "started" ? nats.credentials : undefined,
      mail,
      gatewayDir: path.join(dataDir, "gateway"),
    });
  } catch (err) {
    out(`TicketForge did not start: ${(err as Error).message}`);
    await databases.embedded?.stop();
    if (nats.kind === "started") await nats.stop();
    release();
    process.exit(1);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const width = 46;
  // the box goes out in one write: a service's log lines cannot land inside it, and whoever
  // reads the output sees it whole once its first line is there
  const box: string[] = [];
  const line = (s: string) => box.push(`│ ${s.padEnd(width)} │`);
  box.push(`┌${"─".repeat(width + 2)}┐`);
  line(`TicketForge is ready in ${seconds} s`);
  line("");
  line(`Open  http://localhost:${ports.gateway}`);
  line("");
  for (const [name, ms] of Object.entries(stack.readyMs)) {
    if (name in ports) line(`  ${name.padEnd(11)} :${ports[name as keyof Ports]}  ready after ${(ms / 1000).toFixed(1)} s`);
  }
  if (mail) line(`Mail (maildev)  http://localhost:${mail.webPort}`);
  line("");
  if (dev) line("dev: services restart when their code changes");
  // on each service's own port: the gateway routes /api/* only
  line("Metrics (Prometheus):");
  for (const s of services) line(`  ${s.padEnd(11)} http://localhost:${ports[s]}/metrics`);
  line("npm run status: lag, outbox, dead letters");
  line("");
  line("Ctrl-C stops everything; data stays in");
  line(`  ${dataDir.startsWith(`${root}${path.sep}`) ? path.relative(root, dataDir) : dataDir}/`);
  box.push(`└${"─".repeat(width + 2)}┘`);
  out(box.join("\n"));
  // what start-up grew (tsx compiling this launcher, the bundles, the database's set-up) is given
  // back, as each service does; package.json starts this process with --expose-gc
  setTimeout(() => compactHeap(), 1_000).unref();
  for (const s of skip)
    say(`${s} is not started (SKIP_SERVICES): run it with \`cd ${s} && npm run dev\`; the gateway routes to :${ports[s as keyof Ports]}`);
  // The launcher runs until it is stopped, even when it has no child of its own to wait for (every
  // service skipped, no web app): the servers (PostgreSQL, NATS, the gateway) are not its event
  // loop's to wait for, and their watchdogs stop them when it exits.
  setInterval(() => undefined, 2 ** 30);
}

void main();
