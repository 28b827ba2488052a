import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createGateway, loadRoutes, type Targets } from "./gateway";
import { root, Supervised } from "./processes";

export const services = ["auth", "tickets", "orders", "payments", "expiration"] as const;
export type ServiceName = (typeof services)[number];

export const defaultPorts = { gateway: 3000, auth: 3001, tickets: 3002, orders: 3003, payments: 3004, expiration: 3005, client: 3006 };
export type Ports = typeof defaultPorts;

export interface StackOptions {
  natsUrl: string;
  jwtKey: string;
  ports: Ports;
  /** Environment given to every service (EXPIRATION_WINDOW_SECONDS, LOG_LEVEL…). */
  env: NodeJS.ProcessEnv;
  /** Each service's own database. */
  databaseUrls: Record<string, string>;
  /** Start the Next.js client (building it first when needed). */
  client: boolean;
  out: (line: string) => void;
  readyTimeoutMs?: number;
  /** Processes of every service (REPLICAS), each on its own port; 1 by default. */
  replicas?: number;
  /** Each replica's port; `replicaPorts(ports, replicas)` by default. */
  servicePorts?: Record<ServiceName, number[]>;
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

/** Starts the five services (each as `replicas` processes), the client and the gateway, as in production. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { ports, out } = options;
  const count = options.replicas ?? 1;
  const servicePorts = options.servicePorts ?? replicaPorts(ports, count);
  const processes: Record<string, Supervised> = {};
  const replicas = {} as Record<ServiceName, Supervised[]>;
  const tsx = ["--import", "tsx"];
  // the services' connections share one PostgreSQL server (max_connections 100 when embedded):
  // replicas get smaller pools unless DATABASE_POOL_SIZE says otherwise
  const poolSize = options.env.DATABASE_POOL_SIZE || (count > 1 ? String(Math.max(3, Math.ceil(15 / count))) : undefined);
  let index = 0;
  for (const name of services) {
    replicas[name] = servicePorts[name].map((port, i) => {
      const p = new Supervised(
        {
          name: replicaName(name, i),
          command: process.execPath,
          args: [...tsx, path.join(root, name, "src", "main.ts")],
          readyUrl: `http://127.0.0.1:${port}/readyz`,
          env: {
            ...options.env,
            ...(poolSize ? { DATABASE_POOL_SIZE: poolSize } : {}),
            PORT: String(port),
            NATS_URL: options.natsUrl,
            JWT_KEY: options.jwtKey,
            DATABASE_URL: options.databaseUrls[name],
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

  const targets: Targets = {};
  for (const name of services) targets[name] = servicePorts[name].map((port) => `http://127.0.0.1:${port}`);
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
      // by service: when its last replica was ready
      const service = name.replace(/-\d+$/, "");
      readyMs[service] = Math.max(readyMs[service] ?? 0, Date.now() - started);
      return [name, ok] as const;
    }),
  );
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
