import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { Logger } from "pino";
import { baseSettings, ConfigError, loadConfig, type ConfigOf, type Settings } from "./config";
import { createLogger } from "./logger";
import { openDatabase, type Database, type Db } from "./db/database";
import { Notifications } from "./db/notifications";
import { commonMigrationsDir, migrate } from "./db/migrate";
import { Bus } from "./bus/bus";
import { SessionRevocations } from "./bus/revocations";
import { durableName, EventConsumer } from "./bus/consumer";
import type { Listener } from "./bus/listener";
import { OutboxRelay, type PublishFn } from "./outbox";
import { createHttpApp } from "./http/app";
import { streamOf, type Subject } from "./events/subjects";
import { trace, type Tracer } from "@opentelemetry/api";
import { flushTracing, initTracing } from "./telemetry/tracing";
import { traceTransactions } from "./telemetry/db";
import { ServiceMetrics } from "./telemetry/metrics";
import { findPool } from "./telemetry/pool";

export type BaseConfig = ConfigOf<ReturnType<typeof baseSettings>>;

/** What routes, listeners and workers of a service get. */
export interface ServiceContext<C extends BaseConfig = BaseConfig> {
  config: C;
  db: Db;
  log: Logger;
  bus: Bus;
  relay: OutboxRelay;
  /** Prometheus metrics of the service; workers add their own gauges. */
  metrics: ServiceMetrics;
  tracer: Tracer;
  /** Signed-out sessions, as every service sees them. */
  sessions: SessionRevocations;
  /** LISTEN/NOTIFY on the service's database (a connection is opened for the first channel watched). */
  notifications: Notifications;
}

export interface Worker {
  stop(): Promise<void>;
}

/** Everything that makes one service; `src/service.ts` of each service exports one. */
export interface ServiceDefinition<S extends Settings = Settings> {
  name: string;
  settings: S;
  migrationsDir: string;
  routes: (app: Express, ctx: ServiceContext<ConfigOf<S> & BaseConfig>) => void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  listeners: Listener<any>[];
  /** Background work besides listeners (e.g. the expiration timers). */
  workers?: (ctx: ServiceContext<ConfigOf<S> & BaseConfig>) => Promise<Worker[]> | Worker[];
}

export interface RunningService<C extends BaseConfig = BaseConfig> {
  name: string;
  ctx: ServiceContext<C>;
  app: Express;
  server: http.Server;
  url: string;
  database: Database;
  stop(): Promise<void>;
}

export interface StartOverrides {
  /** Use this database instead of opening one from the config (tests). */
  database?: Database;
  log?: Logger;
  /** Replace the outbox's publish (tests simulate a broker failure). */
  publish?: (real: PublishFn) => PublishFn;
  retryBaseMs?: number;
  /** Deliveries an event may wait (RetryLater) before it is dead-lettered. */
  maxWaitDeliveries?: number;
  sweepIntervalMs?: number;
  /** Age at which the outbox sweeper takes a row the fast path left (tests shorten the default). */
  sweepAfterMs?: number;
  /** Start listeners (default true). */
  listen?: boolean;
}

/** Wires a service: database and migrations, NATS, outbox relay, listeners, workers, HTTP server. */
export async function startService<S extends Settings>(
  def: ServiceDefinition<S>,
  config: ConfigOf<S> & BaseConfig,
  overrides: StartOverrides = {},
): Promise<RunningService<ConfigOf<S> & BaseConfig>> {
  const log = overrides.log ?? createLogger(def.name, config.LOG_LEVEL);
  const database =
    overrides.database ??
    (await openDatabase({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE }));
  const cleanup: Array<() => Promise<void>> = [];
  const ownsDatabase = !overrides.database;
  await initTracing({ service: def.name });
  // named after the service: spans of services sharing one (test) process stay apart
  const tracer = trace.getTracer(def.name);
  const metrics = new ServiceMetrics(def.name);
  const db = traceTransactions(database.db, tracer);
  try {
    const applied = await migrate(database.db, [
      { scope: "common", dir: commonMigrationsDir },
      { scope: def.name, dir: def.migrationsDir },
    ]);
    log.info({ database: database.location, applied }, "database ready");

    const bus = await Bus.connect({
      url: config.NATS_URL,
      name: def.name,
      log,
      streamReplicas: config.NATS_STREAM_REPLICAS,
      user: config.NATS_USER,
      password: config.NATS_PASSWORD,
    });
    cleanup.push(() => bus.drain());
    const sessions = await SessionRevocations.open(bus, log, config.NATS_STREAM_REPLICAS);
    cleanup.push(() => sessions.close());
    const realPublish: PublishFn = (subject, body, msgId, headers) => bus.publish(subject, body, msgId, headers);
    const relay = new OutboxRelay({
      // traced: a transaction through the relay inside a trace gets its span like any other
      db,
      log,
      publish: overrides.publish ? overrides.publish(realPublish) : realPublish,
      sweepIntervalMs: overrides.sweepIntervalMs,
      sweepAfterMs: overrides.sweepAfterMs,
      tracer,
    }).start();
    cleanup.push(() => relay.stop());
    const notifications = new Notifications({ url: database.url, log, applicationName: `${def.name}-notifications` });
    cleanup.push(() => notifications.close());
    const ctx: ServiceContext<ConfigOf<S> & BaseConfig> = { config, db, log, bus, relay, metrics, tracer, sessions, notifications };

    const consumers: EventConsumer<Subject>[] = [];
    if (overrides.listen !== false) {
      for (const l of def.listeners) {
        const c = new EventConsumer(l, {
          bus,
          db,
          log,
          service: def.name,
          tracer,
          metrics,
          maxDeliver: config.NATS_MAX_DELIVER,
          retryBaseMs: overrides.retryBaseMs,
          maxWaitDeliveries: overrides.maxWaitDeliveries,
          // the handler's events leave from memory right after its commit (no claim, no read)
          afterCommit: (written) => relay.publishCommitted(written),
        });
        await c.start();
        consumers.push(c);
        cleanup.push(() => c.stop());
      }
    }
    metrics.watchConsumers(
      bus,
      def.listeners.map((l) => ({ stream: streamOf(l.subject), durable: durableName(def.name, l.subject), subject: l.subject })),
    );
    metrics.watchOutbox(database.db);
    metrics.watchDeadLetters(bus);
    const poolStats = await findPool(database.db);
    if (poolStats) metrics.watchPool(poolStats);
    const workers = def.workers ? await def.workers(ctx) : [];
    for (const w of workers) cleanup.push(() => w.stop());

    const app = createHttpApp(
      {
        log,
        jwtPublicKey: config.JWT_PUBLIC_KEY,
        cookieSecure: config.COOKIE_SECURE,
        trustProxy: config.TRUST_PROXY,
        isRevoked: (sid) => sessions.isRevoked(sid),
        ready: async () => sessions.healthy && (await bus.ping()) && (await database.ping().then(() => true)),
        tracer,
        metrics,
      },
      (a) => def.routes(a, ctx),
    );
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    log.info({ port, listeners: def.listeners.map((l) => l.subject) }, `${def.name} ready`);

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        log.info("shutting down");
        // stop accepting; in-flight requests finish; idle keep-alive sockets close
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        for (const w of workers) await w.stop();
        for (const c of consumers) await c.stop();
        await relay.stop();
        await notifications.close();
        await sessions.close();
        await bus.drain();
        if (ownsDatabase) await database.close();
        await flushTracing();
        log.info("stopped");
      })());
    return { name: def.name, ctx, app, server, url, database, stop };
  } catch (err) {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    if (ownsDatabase) await database.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The whole of a service's main.ts: read the configuration (one clear message for every bad
 * variable), start, and shut down gracefully on SIGTERM / SIGINT within SHUTDOWN_TIMEOUT_MS.
 */
export async function runService<S extends Settings>(def: ServiceDefinition<S>): Promise<void> {
  if (process.argv.includes("--provision")) return provisionFor(def);
  let config: ConfigOf<S> & BaseConfig;
  try {
    config = loadConfig(def.name, def.settings) as ConfigOf<S> & BaseConfig;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger(def.name, config.LOG_LEVEL);
  let service: RunningService;
  try {
    service = await startService(def, config, { log });
  } catch (err) {
    log.fatal({ err }, `${def.name} failed to start: ${(err as Error).message}`);
    // give the logger a moment to flush
    setTimeout(() => process.exit(1), 100);
    return;
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, "signal received");
    const timer = setTimeout(() => {
      log.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    service.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  if (process.env.TICKETFORGE_SUPERVISED === "1") {
    // started by the local launcher with a pipe on stdin: when the launcher dies, even by
    // SIGKILL, the pipe closes and the service shuts down instead of living on as an orphan
    process.stdin.on("end", () => shutdown("launcher gone"));
    process.stdin.on("error", () => shutdown("launcher gone"));
    process.stdin.resume();
  }
}

/**
 * `main.js --provision`: on a NATS server with accounts, where a service's own user may not
 * create streams or consumers, the administrator (NATS_USER / NATS_PASSWORD) creates this
 * service's streams and durable consumers, then the process exits. The Kubernetes Jobs
 * `nats-provision-<service>` run it with the service's own image before the service can start.
 */
async function provisionFor(def: { name: string; listeners: Listener<Subject>[] }): Promise<void> {
  const log = createLogger(`${def.name}-provision`, process.env.LOG_LEVEL ?? "info");
  const { provisionJetStream } = await import("./bus/provision");
  const { natsAdminUser } = await import("./bus/authorization");
  const password = process.env.NATS_PASSWORD;
  if (!password) {
    process.stderr.write(`${def.name} --provision: NATS_PASSWORD (the administrator's) is required\n`);
    process.exit(78);
  }
  try {
    await provisionJetStream({
      url: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      user: process.env.NATS_USER ?? natsAdminUser,
      password,
      services: [{ service: def.name, listens: def.listeners.map((l) => l.subject) }],
      streamReplicas: Number(process.env.NATS_STREAM_REPLICAS ?? 1),
      log,
    });
    log.info({ listens: def.listeners.map((l) => l.subject) }, "JetStream provisioned");
    setTimeout(() => process.exit(0), 100);
  } catch (err) {
    log.fatal({ err }, `provisioning failed: ${(err as Error).message}`);
    setTimeout(() => process.exit(1), 100);
  }
}
