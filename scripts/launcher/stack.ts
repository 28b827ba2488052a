import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createGateway, loadRoutes } from "./gateway";
import { root, Supervised } from "./processes";
import { serviceDatabaseUrl } from "./databases";

export const services = ["auth", "tickets", "orders", "payments", "expiration"] as const;
export type ServiceName = (typeof services)[number];

export const defaultPorts = { gateway: 3000, auth: 3001, tickets: 3002, orders: 3003, payments: 3004, expiration: 3005, client: 3006 };
export type Ports = typeof defaultPorts;

export interface StackOptions {
  dataDir: string;
  natsUrl: string;
  jwtKey: string;
  ports: Ports;
  /** Environment given to every service (EXPIRATION_WINDOW_SECONDS, LOG_LEVEL, database URLs…). */
  env: NodeJS.ProcessEnv;
  /** Start the Next.js client (building it first when needed). */
  client: boolean;
  out: (line: string) => void;
  readyTimeoutMs?: number;
  /** Each service's NATS user and password, when the server has accounts. */
  natsCredentials?: Record<string, { user: string; password: string }>;
}

export interface Stack {
  gatewayUrl: string;
  processes: Record<string, Supervised>;
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

export function buildClient(out: (line: string) => void): void {
  out("building the web app (next build)…");
  const r = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
    cwd: path.join(root, "client"),
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
}

/** Starts the five services, the client and the gateway, as in production: one process each. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { ports, out } = options;
  const processes: Record<string, Supervised> = {};
  const tsx = ["--import", "tsx"];
  let index = 0;
  for (const name of services) {
    const databaseUrl = await serviceDatabaseUrl(name, options.env);
    processes[name] = new Supervised(
      {
        name,
        command: process.execPath,
        args: [...tsx, path.join(root, name, "src", "main.ts")],
        readyUrl: `http://127.0.0.1:${ports[name]}/readyz`,
        env: {
          ...options.env,
          PORT: String(ports[name]),
          NATS_URL: options.natsUrl,
          JWT_KEY: options.jwtKey,
          DATA_DIR: path.join(options.dataDir, name),
          DATABASE_URL: databaseUrl ?? "",
          ...(options.natsCredentials?.[name] && {
            NATS_USER: options.natsCredentials[name].user,
            NATS_PASSWORD: options.natsCredentials[name].password,
          }),
        },
      },
      out,
      index++,
    );
  }
  if (options.client) {
    if (!clientBuildIsFresh()) buildClient(out);
    processes.client = new Supervised(
      {
        name: "client",
        command: process.execPath,
        args: [path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", path.join(root, "client"), "-p", String(ports.client)],
        readyUrl: `http://127.0.0.1:${ports.client}/healthz`,
        env: {
          ...options.env,
          NEXT_TELEMETRY_DISABLED: "1",
          PORT: String(ports.client),
          API_BASE_URL: `http://127.0.0.1:${ports.gateway}`,
        },
      },
      out,
      index++,
    );
  }

  const targets: Record<string, string | undefined> = {};
  for (const name of services) targets[name] = `http://127.0.0.1:${ports[name]}`;
  if (options.client) targets.client = `http://127.0.0.1:${ports.client}`;
  const gateway = createGateway({ routes: loadRoutes(), targets });
  await new Promise<void>((resolve, reject) => {
    gateway.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new Error(`Port ${ports.gateway} is in use: set GATEWAY_PORT to another port`) : err),
    );
    gateway.listen(ports.gateway, resolve);
  });

  const started = Date.now();
  const readyMs: Record<string, number> = {};
  for (const p of Object.values(processes)) p.start();
  const stop = async () => {
    await Promise.all(Object.values(processes).map((p) => p.stop()));
    await new Promise<void>((resolve) => {
      gateway.close(() => resolve());
      gateway.closeAllConnections();
    });
  };
  const results = await Promise.all(
    Object.entries(processes).map(async ([name, p]) => {
      const ok = await p.waitReady(options.readyTimeoutMs ?? 120_000);
      readyMs[name] = Date.now() - started;
      return [name, ok] as const;
    }),
  );
  const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
  if (failed.length > 0) {
    await stop();
    throw new Error(`not ready in time: ${failed.join(", ")} (see their log lines above)`);
  }
  return { gatewayUrl: `http://127.0.0.1:${ports.gateway}`, processes, readyMs, stop };
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = http.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
