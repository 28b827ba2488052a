import fs from "node:fs";
import os from "node:os";
import http from "node:http";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { gatewaySpec, loadRoutes, type Targets } from "./gateway";
import { root, Supervised } from "./processes";
import { serviceRuntime } from "./runtime";
import { defaultPorts, manifest, services } from "../services";
import { withSessionKeys, type SessionKeys } from "./session-keys";

// the services, their folders and default ports are services.json's
export { defaultPorts, services };
/** A service's name, as services.json spells it. */
export type ServiceName = string;
/** Each process's port by name: `gateway`, every service, `client`. */
export type Ports = Record<string, number>;
const folderOf = (service: string) => manifest.services.find((s) => s.name === service)?.folder ?? service;

export interface StackOptions {
  natsUrl: string;
  /** The session key pair: the public key for every service, the private one for auth alone. */
  sessionKeys: SessionKeys;
  /** The address every process listens on (listenHost: loopback unless HOST says otherwise). */
  host: string;
  ports: Ports;
  /** Environment given to every service (EXPIRATION_WINDOW_SECONDS, LOG_LEVEL…). */
  env: NodeJS.ProcessEnv;
  /** Each service's own database. */
  databaseUrls: Record<string, string>;
  /** Start the Next.js client (building it first when needed). */
  client: boolean;
  out: (line: string) => void;
  readyTimeoutMs?: number;
  /** Development: services restart when their code or common/ changes; the client runs `next dev`. */
  dev?: boolean;
  /** Services not started here (run on their own with `npm run dev` in their folder); still routed. */
  skip?: string[];
  /** Each service's NATS user and password, when the server has accounts. */
  natsCredentials?: Record<string, { user: string; password: string }>;
  /** Processes of every service (REPLICAS), each on its own port; 1 by default. */
  replicas?: number;
  /** Each replica's port; `replicaPorts(ports, replicas)` by default. */
  servicePorts?: Record<ServiceName, number[]>;
  /** Run the local mail catcher (maildev) on these ports; the services send to it (SMTP_URL). */
  mail?: { smtpPort: number; webPort: number; dir: string };
  /** Where the gateway's configuration and log go; a temporary folder, removed on stop, by default. */
  gatewayDir?: string;
}

/** Replica i (from 0) of a service listens on its port + 100·i: orders on 3003, 3103, 3203. */
export function replicaPorts(ports: Ports, replicas: number): Record<ServiceName, number[]> {
  return Object.fromEntries(services.map((s) => [s, Array.from({ length: replicas }, (_, i) => ports[s] + 100 * i)])) as Record<
    ServiceName,
    number[]
  >;
}

/** The first replica is named after its service (`orders`), the others `orders-2`, `orders-3`… */
export const replicaName = (service: string, i: number) => (i === 0 ? service : `${service}-${i + 1}`);

export interface Stack {
  gatewayUrl: string;
  /** Every process by name: `orders`, `orders-2`…, `client`. */
  processes: Record<string, Supervised>;
  /** Each service's replicas, in order. */
  replicas: Record<ServiceName, Supervised[]>;
  readyMs: Record<string, number>;
  stop(): Promise<void>;
}

/** True when client/.next holds a build newer than every client source file. */
export function clientBuildIsFresh(): boolean {
  const buildId = path.join(root, "client", ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) return false;
  const builtAt = fs.statSync(buildId).mtimeMs;
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      if (e.name === "node_modules" || e.name === ".next" || e.name === "test") return max;
      const p = path.join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }, 0);
  return newest(path.join(root, "client")) < builtAt;
}

/**
 * The standalone server of the last `next build`, with the build's static files beside it where
 * it looks for them (the image copies them there; here a link does).
 */
function standaloneClient(): string {
  const app = path.join(root, "client", ".next", "standalone", "client");
  const link = (from: string, at: string) => {
    if (fs.existsSync(from) && !fs.lstatSync(at, { throwIfNoEntry: false })) fs.symlinkSync(path.relative(path.dirname(at), from), at);
  };
  link(path.join(root, "client", ".next", "static"), path.join(app, ".next", "static"));
  link(path.join(root, "client", "public"), path.join(app, "public"));
  return path.join(app, "server.js");
}

/** Where each service's esbuild bundle goes: where `node infra/docker/build.mjs <service>` puts it. */
export const bundleDir = (service: string) => path.join(root, folderOf(service), "dist");

const newestIn = (dir: string): number =>
  !fs.existsSync(dir)
    ? 0
    : fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
        const p = path.join(dir, e.name);
        return Math.max(max, e.isDirectory() ? newestIn(p) : fs.statSync(p).mtimeMs);
      }, 0);

/** When a file was last changed; 0 when it does not exist. */
const changedAt = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

/**
 * True when the bundle of `service` is newer than everything it is made of: its sources, the
 * shared code, the npm packages it bundles (npm rewrites node_modules/.package-lock.json at each
 * install) and the build script itself.
 */
export function serviceBundleIsFresh(service: string): boolean {
  const main = path.join(bundleDir(service), "main.js");
  if (!fs.existsSync(main)) return false;
  const builtAt = fs.statSync(main).mtimeMs;
  const sources = [path.join(root, folderOf(service), "src"), path.join(root, "common", "src"), path.join(root, "nats", "src")];
  const files = [path.join(root, "node_modules", ".package-lock.json"), path.join(root, "infra", "docker", "build.mjs")];
  return sources.every((dir) => newestIn(dir) < builtAt) && files.every((file) => changedAt(file) < builtAt);
}

/**
 * Services run as built JavaScript, as in the image: under tsx every process compiled its
 * TypeScript at each start (seconds of CPU per service, and a larger heap). The bundles are
 * rebuilt here when a source is newer (esbuild, well under a second each), so an edit is picked
 * up by the next `npm start`. A new bundle is written beside the old one and swapped in, so a
 * launcher starting at the same moment never reads a half-written one.
 */
export async function buildServices(names: readonly string[], out: (line: string) => void): Promise<void> {
  const stale = names.filter((s) => !serviceBundleIsFresh(s));
  if (stale.length === 0) return;
  out(`building ${stale.join(", ")} (esbuild)…`);
  // in child processes: build.mjs is an ES module (which Jest cannot load in the e2e tests), and
  // esbuild then leaves nothing behind in the launcher's memory
  await Promise.all(
    stale.map(async (service) => {
      const target = bundleDir(service);
      const fresh = `${target}.${process.pid}.new`;
      const old = `${target}.${process.pid}.old`;
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(root, "infra", "docker", "build.mjs"), service, "--outdir", fresh], {
          cwd: root,
          stdio: ["ignore", "ignore", "pipe"],
        });
        let errors = "";
        child.stderr.on("data", (d) => (errors += d));
        child.once("error", reject);
        child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`building ${service} failed: ${errors.trim()}`))));
      });
      if (fs.existsSync(target)) fs.renameSync(target, old);
      fs.renameSync(fresh, target);
      fs.rmSync(old, { recursive: true, force: true });
    }),
  );
}

/**
 * Builds the web app. Two stacks starting at once (two test files, a test and `npm start`) both
 * find it stale; Next refuses the second build while the first runs, so the second waits for the
 * first's result instead (up to five minutes) and builds only if that left it stale.
 */
export async function buildClient(out: (line: string) => void): Promise<void> {
  out("building the web app (next build)…");
  const deadline = Date.now() + 300_000;
  for (;;) {
    const r = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: path.join(root, "client"),
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
    if (r.status === 0) return;
    if (!/Another next build process is already running/.test(`${r.stdout}${r.stderr}`) || Date.now() > deadline)
      throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
    await new Promise((done) => setTimeout(done, 2_000));
    if (clientBuildIsFresh()) return;
  }
}

/** Starts the services (each as `replicas` processes), the client and the gateway, as in production. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { ports, out } = options;
  const count = options.replicas ?? 1;
  const servicePorts = options.servicePorts ?? replicaPorts(ports, count);
  const processes: Record<string, Supervised> = {};
  const replicas = {} as Record<ServiceName, Supervised[]>;
  // the services' connections share one PostgreSQL server (max_connections 100 when embedded):
  // replicas get smaller pools unless DATABASE_POOL_SIZE says otherwise
  const poolSize = options.env.DATABASE_POOL_SIZE || (count > 1 ? String(Math.max(3, Math.ceil(15 / count))) : undefined);
  const started = services.filter((name) => !options.skip?.includes(name));
  // development runs the TypeScript sources (a restart picks up a change); otherwise the bundles
  if (!options.dev) await buildServices(started, out);
  let index = 0;
  for (const name of started) {
    replicas[name] = servicePorts[name].map((port, i) => {
      const p = new Supervised(
        {
          name: replicaName(name, i),
          command: serviceRuntime().path,
          // source maps: stack traces in the logs name the TypeScript files and lines; gc: the
          // service gives back what start-up grew (compactHeap in common/src/heap.ts)
          args: options.dev
            ? ["--expose-gc", "--import", "tsx", path.join(root, folderOf(name), "src", "main.ts")]
            : ["--enable-source-maps", "--expose-gc", path.join(bundleDir(name), "main.js")],
          readyUrl: `http://127.0.0.1:${port}/readyz`,
          env: {
            ...withSessionKeys(name, options.env, options.sessionKeys),
            ...(poolSize ? { DATABASE_POOL_SIZE: poolSize } : {}),
            PORT: String(port),
            HOST: options.host,
            NATS_URL: options.natsUrl,
            DATABASE_URL: options.databaseUrls[name],
            ...(options.mail && { SMTP_URL: `smtp://127.0.0.1:${options.mail.smtpPort}` }),
            ...(options.natsCredentials?.[name] && {
              NATS_USER: options.natsCredentials[name].user,
              NATS_PASSWORD: options.natsCredentials[name].password,
            }),
          },
        },
        out,
        index,
      );
      processes[replicaName(name, i)] = p;
      return p;
    });
    index++;
  }
  if (options.mail) {
    fs.mkdirSync(options.mail.dir, { recursive: true });
    processes.maildev = new Supervised(
      {
        name: "maildev",
        command: serviceRuntime().path,
        args: [
          // a handful of mails a minute: no optimising compiler and a small young generation keep it
          // at ~100 MB instead of ~170 (PSS, measured alone on Node 24)
          "--lite-mode",
          "--max-semi-space-size=1",
          path.join(root, "node_modules", "maildev", "dist", "bin", "maildev.js"),
          "--smtp",
          String(options.mail.smtpPort),
          "--web",
          String(options.mail.webPort),
          "--ip",
          "127.0.0.1",
          "--web-ip",
          "127.0.0.1",
          "--mail-directory",
          options.mail.dir,
        ],
        readyUrl: `http://127.0.0.1:${options.mail.webPort}/api/healthz`,
        // maildev does not watch its stdin: a watchdog stops it when the launcher dies
        watchdog: true,
        env: { ...options.env },
      },
      out,
      index++,
    );
  }
  if (options.client) {
    if (!options.dev && !clientBuildIsFresh()) await buildClient(out);
    processes.client = new Supervised(
      {
        name: "client",
        command: serviceRuntime().path,
        // `next dev` for development; otherwise the standalone server the image runs (client/Dockerfile):
        // unlike `next start` it loads no compiler (Next's SWC binary, 23 MB), and a small young
        // generation suits a server that renders a few pages at a time (PSS at idle in the stack,
        // Node 24: 75 MB with `next start`, about 50 MB so)
        args: options.dev
          ? [
              path.join(root, "node_modules", "next", "dist", "bin", "next"),
              "dev",
              path.join(root, "client"),
              "-p",
              String(ports.client),
              "-H",
              options.host,
            ]
          : ["--max-semi-space-size=2", standaloneClient()],
        readyUrl: `http://127.0.0.1:${ports.client}/healthz`,
        // Next.js does not watch its stdin as the services do: a watchdog stops it if the launcher dies
        watchdog: true,
        env: {
          ...options.env,
          NEXT_TELEMETRY_DISABLED: "1",
          PORT: String(ports.client),
          HOSTNAME: options.host,
          API_BASE_URL: `http://127.0.0.1:${ports.gateway}`,
        },
      },
      out,
      index++,
    );
  }

  const targets: Targets = {};
  for (const name of services) targets[name] = servicePorts[name].map((port) => `http://127.0.0.1:${port}`);
  if (options.client) targets.client = `http://127.0.0.1:${ports.client}`;
  const gatewayDir = options.gatewayDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ticketforge-gateway-"));
  processes.gateway = new Supervised(
    gatewaySpec({ routes: loadRoutes(), targets, host: options.host, port: ports.gateway, dir: gatewayDir }),
    out,
    index++,
  );

  const startedAt = Date.now();
  const readyMs: Record<string, number> = {};
  for (const p of Object.values(processes)) p.start();
  const watchers = options.dev ? started.flatMap((name) => replicas[name].map((p) => watchAndRestart(name, p, out))) : [];
  const stop = async () => {
    for (const w of watchers) w.close();
    // the front door first: no new request reaches a service that is stopping
    await processes.gateway.stop();
    await Promise.all(Object.values(processes).map((p) => p.stop()));
    if (!options.gatewayDir) fs.rmSync(gatewayDir, { recursive: true, force: true });
  };
  const ready = new Set<string>();
  // never wait in silence: say every few seconds what is not ready yet
  const progress = setInterval(() => {
    const waiting = Object.keys(processes).filter((name) => !ready.has(name));
    if (waiting.length > 0)
      out(
        `waiting for ${waiting.join(", ")} to be ready (${Math.round((Date.now() - startedAt) / 1000)} s; their log lines above say why)`,
      );
  }, 5_000);
  const results = await Promise.all(
    Object.entries(processes).map(async ([name, p]) => {
      const ok = await p.waitReady(options.readyTimeoutMs ?? 120_000);
      ready.add(name);
      // by service: when its last replica was ready
      const service = name.replace(/-\d+$/, "");
      readyMs[service] = Math.max(readyMs[service] ?? 0, Date.now() - startedAt);
      return [name, ok] as const;
    }),
  );
  clearInterval(progress);
  const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
  if (failed.length > 0) {
    await stop();
    throw new Error(`not ready in time: ${failed.join(", ")} (see their log lines above)`);
  }
  return { gatewayUrl: `http://127.0.0.1:${ports.gateway}`, processes, replicas, readyMs, stop };
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = http.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * Restarts a service when a file of its own or of common/ changes (a burst of saves is one
 * restart), for `npm run dev`.
 */
export function watchAndRestart(name: string, child: Supervised, out: (line: string) => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let changed = "";
  const onChange = (dir: string) => (_event: string, file: string | Buffer | null) => {
    changed = path.join(dir, String(file ?? ""));
    clearTimeout(timer);
    timer = setTimeout(async () => {
      out(`${name}: ${path.relative(root, changed)} changed; restarting`);
      await child.stop();
      child.restart();
    }, 200);
  };
  const watchers = [path.join(root, folderOf(name), "src"), path.join(root, "common", "src")].map((dir) =>
    fs.watch(dir, { recursive: true }, onChange(dir)),
  );
  return {
    close: () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
