import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePorts, startNatsCluster, startNatsServer, type NatsCluster, type NatsServer } from "@ticketforge/nats";
import { createLogger, natsAdminUser, provisionJetStream } from "@ticketforge/common";
import { testSessionKeys } from "@ticketforge/common/testing";
import { busUsers } from "../scripts/launcher/bus-users";
import { serviceDatabaseUrl } from "../scripts/launcher/databases";
import { startEmbeddedPostgres, testSettings, type EmbeddedPostgres } from "../scripts/launcher/postgres";
import { services, startStack as startProcesses, type Ports, type ServiceName, type Stack as Processes } from "../scripts/launcher/stack";

export interface TestStack {
  /** The gateway: one origin, routed like the ingress. */
  baseUrl: string;
  /** The nats-server (the first node of a cluster). */
  nats: NatsServer;
  /** Every node of the cluster (the one server without a cluster): stop, kill -9, start. */
  natsNodes: NatsServer[];
  /** What the services connect to: every node, comma-separated. */
  natsUrl: string;
  /** The cluster, when there is one: `waitForLeader()` after a node is back. */
  natsCluster?: NatsCluster;
  /** The administrator of a server with authorization (the cluster runs the shipped accounts). */
  natsAdmin?: { user: string; password: string };
  /** Each service's (and the client's) process: stop, kill -9, restart. */
  processes: Processes["processes"];
  /** Each service's replicas. */
  replicas: Processes["replicas"];
  /** Each service's database. */
  databaseUrls: Record<ServiceName, string>;
  /** The stack's own PostgreSQL server (`ownPostgres`), supervised as `npm start` does: SIGKILL it and it comes back. */
  postgres?: EmbeddedPostgres;
  ports: Ports;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The whole marketplace as in production, one process per service, on a throw-away nats-server,
 * throw-away databases on the test run's PostgreSQL server and free ports: what `npm start` runs,
 * for end-to-end tests.
 */
export async function startStack(
  options: {
    expirationWindowSeconds?: number;
    client?: boolean;
    env?: NodeJS.ProcessEnv;
    /** Processes of every service, each on a free port (1). */
    replicas?: number;
    /** Nodes of a JetStream cluster running the prod overlay's nats.conf, streams replicated on 3 (none: one nats-server). */
    natsCluster?: number;
    /** A PostgreSQL server of the stack's own instead of the test run's shared one: for tests that kill it. */
    ownPostgres?: boolean;
  } = {},
): Promise<TestStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-stack-"));
  const cluster = options.natsCluster ? await startNatsCluster({ size: options.natsCluster }) : undefined;
  const natsNodes: NatsServer[] = cluster ? cluster.nodes : [await startNatsServer()];
  const nats = natsNodes[0];
  const natsUrl = cluster ? cluster.url : nats.url;
  const destroyNats = () => (cluster ? cluster.destroy() : nats.destroy());
  const replicas = options.replicas ?? 1;
  const names = ["gateway", ...services, "client"];
  const free = await freePorts(names.length + services.length * (replicas - 1));
  const ports: Ports = Object.fromEntries(names.map((name, i) => [name, free[i]]));
  const more = free.slice(names.length);
  const servicePorts = Object.fromEntries(
    services.map((s, i) => [s, [ports[s], ...more.slice(i * (replicas - 1), (i + 1) * (replicas - 1))]]),
  ) as Record<ServiceName, number[]>;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    EXPIRATION_WINDOW_SECONDS: String(options.expirationWindowSeconds ?? 900),
    AUTH_RATE_LIMIT_PER_MINUTE: "10000",
    // the journeys have one buyer hold many orders at once, faster than any person would
    ORDERS_MAX_LIVE_PER_BUYER: "10000",
    ORDERS_RATE_LIMIT_PER_MINUTE: "10000",
    // every buyer of a test pays from this one machine's address
    PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE: "10000",
    // and searches titles from it
    TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE: "10000",
    ...(cluster ? { NATS_STREAM_REPLICAS: String(Math.min(3, cluster.nodes.length)) } : {}),
    ...(!options.ownPostgres && { DATABASE_POOL_SIZE: sharedPoolSize(replicas) }),
    ...options.env,
  };
  let postgres: EmbeddedPostgres | undefined;
  if (options.ownPostgres) {
    fs.chmodSync(dataDir, 0o755); // as root the server runs as `postgres`, which must reach its data dir
    const lines: string[] = [];
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, "postgres"),
      port: (await freePorts(1))[0],
      password: "e2e-postgres",
      settings: { ...testSettings, max_connections: 200 },
      out: (line) => (process.env.TEST_LOG_LEVEL ? process.stdout.write(`${line}\n`) : lines.push(line)),
    });
  }
  // each service gets a database of its own (`<name>_<service>`) on the test run's server
  const server = new URL(postgres?.url ?? process.env.TEST_DATABASE_URL ?? "postgres://unset");
  server.pathname = `/tf_e2e_${path
    .basename(dataDir)
    .replace(/[^a-zA-Z0-9]/g, "_")
    .toLowerCase()}`;
  env.DATABASE_URL = server.toString();
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const s of services) databaseUrls[s] = (await serviceDatabaseUrl(s, env))!;
  // the cluster runs the shipped nats.conf, accounts included: the admin provisions the streams
  // and consumers, and every service connects as its own user, as in production
  let natsAdmin: { user: string; password: string } | undefined;
  let natsCredentials: Record<string, { user: string; password: string }> | undefined;
  if (cluster) {
    natsAdmin = { user: natsAdminUser, password: cluster.passwords[natsAdminUser] };
    await provisionJetStream({
      url: natsUrl,
      ...natsAdmin,
      services: busUsers,
      log: createLogger("nats", "warn"),
      streamReplicas: Math.min(3, cluster.nodes.length),
    });
    natsCredentials = Object.fromEntries(busUsers.map((u) => [u.service, { user: u.service, password: cluster.passwords[u.service] }]));
  }
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    if (process.env.TEST_LOG_LEVEL) process.stdout.write(`${line}\n`);
  };
  let stack: Processes;
  try {
    stack = await startProcesses({
      natsUrl,
      sessionKeys: testSessionKeys,
      host: "127.0.0.1",
      ports,
      env,
      databaseUrls,
      client: options.client ?? false,
      out,
      readyTimeoutMs: 180_000,
      replicas,
      servicePorts,
      natsCredentials,
    });
  } catch (err) {
    await destroyNats();
    await postgres?.stop();
    throw new Error(`${(err as Error).message}\n${lines.slice(-40).join("\n")}`);
  }
  return {
    baseUrl: stack.gatewayUrl,
    nats,
    natsNodes,
    natsUrl,
    natsCluster: cluster,
    natsAdmin,
    processes: stack.processes,
    replicas: stack.replicas,
    databaseUrls,
    postgres,
    ports,
    dataDir,
    stop: async () => {
      await stack.stop();
      await destroyNats();
      if (postgres) await postgres.stop();
      else await dropDatabases(env.DATABASE_URL!);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The pool of each service process on the run's shared server: the worker's share of its
 * connections (TEST_CONNECTIONS_PER_WORKER, from the global set-up), less a few for the test's
 * own clients, spread over every process, each of which also holds one LISTEN connection; at most
 * the services' default of 10 and at least 1.
 */
function sharedPoolSize(replicas: number): string {
  const budget = Number(process.env.TEST_CONNECTIONS_PER_WORKER) || 60;
  const perProcess = Math.floor((budget - 4) / (services.length * replicas)) - 1;
  return String(Math.min(10, Math.max(1, perProcess)));
}

async function dropDatabases(base: string) {
  const { Client } = await import("pg");
  const url = new URL(base);
  const prefix = url.pathname.slice(1);
  url.pathname = "/postgres";
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const rows = await client.query("select datname from pg_database where datname like $1", [`${prefix}_%`]);
    for (const r of rows.rows) await client.query(`drop database if exists ${r.datname} with (force)`);
  } finally {
    await client.end();
  }
}
