import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { Logger } from "pino";
import { baseSettings, ConfigError, loadConfig, type ConfigOf, type Settings } from "./config";
import { createLogger } from "./logger";
import type { Kysely } from "kysely";
import { z } from "zod";
import { openDatabase, type Database } from "./db/database";
import { Notifications } from "./db/notifications";
import { commonMigrationsDir, migrate } from "./db/migrate";
import { Bus } from "./bus/bus";
import { SessionRevocations } from "./bus/revocations";
import { provisionJetStream } from "./bus/provision";
import { natsAdminUser } from "./bus/authorization";
import { EventConsumer } from "./bus/consumer";
import { durableName } from "./bus/durables";
import { compactHeap } from "./heap";
import type { Listener } from "./bus/listener";
import { OutboxRelay, type PublishFn, type WrittenEvent } from "./outbox";
import { workPipeline, type Work } from "./unit-of-work";
import { createHttpApp } from "./http/app";
import { streamOf, type Subject } from "./events/subjects";
import { trace, type Tracer } from "@opentelemetry/api";
import { flushTracing, initTracing } from "./telemetry/tracing";
import { ServiceMetrics } from "./telemetry/metrics";

export type BaseConfig = ConfigOf<ReturnType<typeof baseSettings>>;

/** What routes, listeners and workers of a service get. */
export interface ServiceContext<C extends BaseConfig = BaseConfig, DB = unknown> {
  config: C;
  /**
   * Runs a unit of work: one transaction, its events, its after-commit hooks (unit-of-work.ts).
   * Every write goes through it; it is the only way to publish.
   */
  work: Work<DB>;
  /** The service's tables, for reads outside a unit of work (one statement, nothing published). */
  db: Kysely<DB>;
  log: Logger;
  bus: Bus;
  /** The outbox relay: how many events wait (`pending`), a sweep now (`flushOnce`). */
  relay: OutboxRelay;
  /** Calls `watcher` right after every commit of a unit of work, with its events (a cache empties itself). */
  onCommitted(watcher: (events: WrittenEvent[]) => void): void;
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
// a definition or a running service of no one service in particular (a list of them) may hold any tables
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ServiceDefinition<S extends Settings = Settings, DB = any, X extends object = any> {
  name: string;
  settings: S;
  migrationsDir: string;
  /**
   * What this service adds to the context of its routes and workers (payments: its provider and
   * refunder), made once per running instance, before both.
   */
  extend?: (ctx: ServiceContext<ConfigOf<S> & BaseConfig, DB>) => X;
  routes: (app: Express, ctx: ServiceContext<ConfigOf<S> & BaseConfig, DB> & X) => void;
  listeners: Listener<Subject, DB>[];
  /** Background work besides listeners (e.g. the expiration timers). */
  workers?: (ctx: ServiceContext<ConfigOf<S> & BaseConfig, DB> & X) => Promise<Worker[]> | Worker[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface RunningService<C extends BaseConfig = BaseConfig, DB = any, X extends object = any> {
  name: string;
  ctx: ServiceContext<C, DB> & X;
  app: Express;
  server: http.Server;
  url: string;
  database: Database<DB>;
  stop(): Promise<void>;
}

/**
 * What a service holds open, registered as it is opened and closed in reverse order: on a clean
 * shutdown, and on a start-up that fails half-way.
 */
class Resources {
  private readonly opened: Array<{ name: string; close: () => Promise<void> }> = [];
  constructor(private readonly log: Logger) {}
  add(name: string, close: () => Promise<void>): void {
    this.opened.push({ name, close });
  }
  async closeAll(): Promise<void> {
    for (const { name, close } of this.opened.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.log.warn({ err, resource: name }, "closing failed; going on with the rest");
      }
    }
  }
}

export interface StartOverrides {
  /** Use this database instead of opening one from the config (tests; the caller closes it). */
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
export async function startService<S extends Settings, DB, X extends object = object>(
  def: ServiceDefinition<S, DB, X>,
  config: ConfigOf<S> & BaseConfig,
  overrides: StartOverrides = {},
): Promise<RunningService<ConfigOf<S> & BaseConfig, DB, X>> {
  const log = overrides.log ?? createLogger(def.name, config.LOG_LEVEL);
  const resources = new Resources(log);
  try {
    const database =
      (overrides.database as Database<DB> | undefined) ??
      (await openDatabase<DB>({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE, keepOpen: config.DATABASE_POOL_MIN }));
    if (!overrides.database) resources.add("database", () => database.close());
    const applied = await migrate(database.db, [
      { scope: "common", dir: commonMigrationsDir },
      { scope: def.name, dir: def.migrationsDir },
    ]);
    log.info({ database: database.location, applied }, "database ready");
    await initTracing({ service: def.name });
    resources.add("tracing", () => flushTracing());
    // named after the service: spans of services sharing one (test) process stay apart
    const tracer = trace.getTracer(def.name);
    const metrics = new ServiceMetrics(def.name);

    const bus = await Bus.connect({
      url: config.NATS_URL,
      name: def.name,
      log,
      streamReplicas: config.NATS_STREAM_REPLICAS,
      user: config.NATS_USER,
      password: config.NATS_PASSWORD,
    });
    resources.add("bus", () => bus.drain());
    const sessions = await SessionRevocations.open(bus, log, config.NATS_STREAM_REPLICAS);
    resources.add("sessions", () => sessions.close());
    const realPublish: PublishFn = (subject, body, msgId, headers) => bus.publish(subject, body, msgId, headers);
    const relay = new OutboxRelay({
      db: database.db,
      log,
      publish: overrides.publish ? overrides.publish(realPublish) : realPublish,
      sweepIntervalMs: overrides.sweepIntervalMs,
      sweepAfterMs: overrides.sweepAfterMs,
      tracer,
    }).start();
    resources.add("outbox relay", () => relay.stop());
    const notifications = new Notifications({ url: database.url, log, applicationName: `${def.name}-notifications` });
    resources.add("notifications", () => notifications.close());
    const committedWatchers: Array<(events: WrittenEvent[]) => void> = [];
    const work = workPipeline<DB>({ database, relay, log, tracer }, committedWatchers);
    const base: ServiceContext<ConfigOf<S> & BaseConfig, DB> = {
      config,
      work,
      db: database.db,
      log,
      bus,
      relay,
      onCommitted: (watcher) => void committedWatchers.push(watcher),
      metrics,
      tracer,
      sessions,
      notifications,
    };
    const ctx = { ...base, ...def.extend?.(base) } as ServiceContext<ConfigOf<S> & BaseConfig, DB> & X;

    if (overrides.listen !== false) {
      for (const l of def.listeners) {
        const consumer = new EventConsumer(l, {
          bus,
          work,
          log,
          service: def.name,
          tracer,
          metrics,
          maxDeliver: config.NATS_MAX_DELIVER,
          retryBaseMs: overrides.retryBaseMs,
          maxWaitDeliveries: overrides.maxWaitDeliveries,
        });
        await consumer.start();
        resources.add(`consumer ${consumer.durable}`, () => consumer.stop());
      }
    }
    metrics.watchConsumers(
      bus,
      def.listeners.map((l) => ({ stream: streamOf(l.subject), durable: durableName(def.name, l.subject), subject: l.subject })),
    );
    metrics.watchOutbox(database.db);
    metrics.watchDeadLetters(bus);
    metrics.watchPool(() => ({ total: database.pool.totalCount, idle: database.pool.idleCount, waiting: database.pool.waitingCount }));
    for (const worker of def.workers ? await def.workers(ctx) : []) resources.add("worker", () => worker.stop());

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
    resources.add("http server", async () => {
      // stop accepting; in-flight requests finish; idle keep-alive sockets close
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    log.info({ port, listeners: def.listeners.map((l) => l.subject) }, `${def.name} ready`);

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        log.info("shutting down");
        await resources.closeAll();
        log.info("stopped");
      })());
    return { name: def.name, ctx, app, server, url, database, stop };
  } catch (err) {
    await resources.closeAll();
    throw err;
  }
}

/**
 * The whole of a service's main.ts: read the configuration (one clear message for every bad
 * variable), start, and shut down gracefully on SIGTERM / SIGINT within SHUTDOWN_TIMEOUT_MS.
 */
export async function runService<S extends Settings, DB, X extends object>(def: ServiceDefinition<S, DB, X>): Promise<void> {
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
  let service: { stop(): Promise<void> };
  try {
    service = await startService(def, config, { log });
  } catch (err) {
    log.fatal({ err }, `${def.name} failed to start: ${(err as Error).message}`);
    exitAfterFlush(log, 1);
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
      () => exitAfterFlush(log, 0),
      (err) => {
        log.error({ err }, "error during shutdown");
        exitAfterFlush(log, 1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  setTimeout(() => compactHeap(log), 1_000).unref();
  if (config.TICKETFORGE_SUPERVISED) {
    // started by the local launcher with a pipe on stdin: when the launcher dies, even by
    // SIGKILL, the pipe closes and the service shuts down instead of living on as an orphan
    process.stdin.on("end", () => shutdown("launcher gone"));
    process.stdin.on("error", () => shutdown("launcher gone"));
    process.stdin.resume();
  }
}

/** Exits once pino has written out every line it holds. */
function exitAfterFlush(log: Logger, code: number): void {
  log.flush(() => process.exit(code));
}

/** What `--provision` reads: the administrator's NATS account, never the service's own. */
const provisionSettings = {
  NATS_URL: z.string().min(1),
  NATS_USER: z.string().min(1).default(natsAdminUser),
  NATS_PASSWORD: z.string().min(1),
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/**
 * `main.js --provision`: on a NATS server with accounts, where a service's own user may not
 * create streams or consumers, the administrator (NATS_USER / NATS_PASSWORD) creates this
 * service's streams and durable consumers, then the process exits. The Kubernetes Jobs
 * `nats-provision-<service>` run it with the service's own image before the service can start.
 */
async function provisionFor(def: { name: string; listeners: Array<{ subject: Subject }> }): Promise<void> {
  let config: ConfigOf<typeof provisionSettings>;
  try {
    config = loadConfig(`${def.name} --provision`, provisionSettings);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger(`${def.name}-provision`, config.LOG_LEVEL);
  const listens = def.listeners.map((l) => l.subject);
  try {
    await provisionJetStream({
      url: config.NATS_URL,
      user: config.NATS_USER,
      password: config.NATS_PASSWORD,
      services: [{ service: def.name, listens }],
      streamReplicas: config.NATS_STREAM_REPLICAS,
      log,
    });
    log.info({ listens }, "JetStream provisioned");
    exitAfterFlush(log, 0);
  } catch (err) {
    log.fatal({ err }, `provisioning failed: ${(err as Error).message}`);
    exitAfterFlush(log, 1);
  }
}
