import {
  connect,
  DiscardPolicy,
  headers as natsHeaders,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
} from "nats";
import type { Logger } from "pino";
import { deadLetterStream, streams, type Subject } from "../events/subjects";

const MiB = 1024 * 1024;
const day = 24 * 3600 * 1000;

/**
 * What JetStream keeps (docs/design.md §4, "Stream limits"). Each publishing domain has its own
 * stream and its own quota, so one service flooding its stream fills its quota only, never the
 * store every other write needs; at the quota the stream refuses new messages (discard "new")
 * rather than drop unread ones: the flooding service's outbox waits, nothing is lost. Events are
 * kept longer than dead letters, so that a letter's original is still there to replay. The sum
 * (4 × 256 + 128 + the 64 MiB of revoked sessions) stays below the smallest server's
 * max_file_store (1536 MiB, infra/k8s/base/nats.conf).
 */
export const streamLimits = {
  events: { maxAgeMs: 45 * day, maxBytes: 192 * MiB },
  deadLetters: { maxAgeMs: 30 * day, maxBytes: 128 * MiB },
  revokedSessions: { maxBytes: 64 * MiB },
} as const;

/** The prefix of a NATS user's inboxes (nats.js `inboxPrefix`): the only replies it may subscribe to. */
export const inboxPrefixOf = (user: string) => `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, "_")}`;

/**
 * NATS_URL may name several servers, comma-separated (the nodes of a cluster): a client then
 * reconnects to another node when its own dies, also where the servers do not advertise each other.
 */
export function natsServers(url: string): string[] {
  return url
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface BusOptions {
  url: string;
  /** Client name shown by nats-server (the service name). */
  name: string;
  log: Logger;
  /** Stream replicas: 1 on a single server, 3 on a JetStream cluster. */
  streamReplicas?: number;
  /** This service's NATS user and password; unset on a server without authorization. */
  user?: string;
  password?: string;
  /**
   * Create streams and bring them up to date (default: when connecting without a user). A
   * service with its own user may not, and only checks that they exist.
   */
  manageStreams?: boolean;
}

/**
 * One connection to NATS JetStream per process. It reconnects forever (logging each attempt), so a
 * broker restart never takes the service down; publishes made while disconnected fail and the
 * outbox retries them.
 */
export class Bus {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly log: Logger,
  ) {}

  static async connect(options: BusOptions): Promise<Bus> {
    const { log } = options;
    const nc = await connect({
      servers: natsServers(options.url),
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      waitOnFirstConnect: true,
      pingInterval: 10_000,
      // no stack trace captured for every request (each JetStream publish): they cost about as
      // much as the publish itself, and our logs name the event
      noAsyncTraces: true,
      // its own inboxes: its NATS user may subscribe to those only (natsPermissions)
      ...(options.user ? { user: options.user, pass: options.password, inboxPrefix: inboxPrefixOf(options.user) } : {}),
    });
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") log.warn({ server: s.data }, "NATS disconnected; reconnecting");
        else if (s.type === "reconnecting") log.debug("NATS reconnecting");
        else if (s.type === "reconnect") log.info({ server: s.data }, "NATS reconnected");
        else if (s.type === "error") log.warn({ err: s.data }, "NATS error");
      }
    })();
    const jsm = await nc.jetstreamManager({ timeout: 10_000 });
    const bus = new Bus(nc, nc.jetstream({ timeout: 5_000 }), jsm, log);
    for (let attempt = 1; ; attempt++) {
      try {
        // a service with its own user may not create or change streams: the admin user provisions them
        if (options.manageStreams ?? !options.user) await bus.ensureStreams(options.streamReplicas ?? 1);
        else await bus.checkStreams();
        break;
      } catch (err) {
        // a cluster creating replicated streams for many starting processes at once can take
        // longer than one API timeout: asking again is cheaper than restarting the process
        if (attempt >= 5 || (err as { code?: string }).code !== "TIMEOUT") {
          await nc.close();
          throw err;
        }
        log.warn({ attempt }, "JetStream was slow to answer while setting up the streams; asking again");
      }
    }
    log.info({ url: options.url }, "connected to NATS JetStream");
    return bus;
  }

  /** Creates the streams, or brings an existing one's settings up to date; safe to run on every start. */
  async ensureStreams(replicas: number): Promise<void> {
    const all = [...streams, deadLetterStream];
    for (const s of all) {
      const limits = s.name === deadLetterStream.name ? streamLimits.deadLetters : streamLimits.events;
      const config: Partial<StreamConfig> = {
        name: s.name,
        subjects: [...s.subjects],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: replicas,
        duplicate_window: nanos(120_000),
        max_age: nanos(limits.maxAgeMs),
        max_bytes: limits.maxBytes,
        discard: DiscardPolicy.New,
      };
      try {
        const { config: current } = await this.jsm.streams.info(s.name);
        // replicas of a service start together: only a stream whose settings changed is updated,
        // so that they do not all propose the same change to the cluster at once
        const same =
          current.num_replicas === replicas &&
          current.duplicate_window === config.duplicate_window &&
          current.max_age === config.max_age &&
          current.max_bytes === config.max_bytes &&
          current.discard === config.discard &&
          [...current.subjects].sort().join() === [...s.subjects].sort().join();
        if (!same) await this.jsm.streams.update(s.name, config);
      } catch (err) {
        if (!String((err as Error).message).includes("stream not found")) throw err;
        try {
          await this.jsm.streams.add(config);
        } catch (addErr) {
          // another replica created it in the meantime
          if (!String((addErr as Error).message).includes("already in use")) throw addErr;
        }
      }
    }
  }

  /** Fails with a clear message when a stream is missing (JetStream not provisioned yet). */
  async checkStreams(): Promise<void> {
    for (const s of [...streams, deadLetterStream]) {
      try {
        await this.jsm.streams.info(s.name);
      } catch (err) {
        throw new Error(
          `JetStream stream ${s.name} is not available (${(err as Error).message}): provision JetStream as ` +
            `the admin user first (npm start does; see infra/README.md)`,
        );
      }
    }
  }

  /**
   * Publishes one message and waits for JetStream to store it; `msgId` makes a re-publish a no-op.
   * Not for domain events: a subject of `events/subjects.ts` named here does not compile, because
   * an event leaves only through a unit of work's outbox (`uow.publish`). The outbox relay passes
   * the subjects of rows already written, as strings.
   */
  async publish<S extends string>(subject: NotADomainSubject<S>, body: Uint8Array, msgId: string, extraHeaders?: Record<string, string>) {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(extraHeaders ?? {})) h.set(k, v);
    return this.js.publish(subject, body, { msgID: msgId, headers: h });
  }

  get connected(): boolean {
    return !this.nc.isClosed() && !this.nc.isDraining() && this.nc.info !== undefined && this.reachable;
  }

  private reachable = true;

  /** True when a round trip to the server succeeds now. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    try {
      await Promise.race([this.nc.flush(), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs).unref())]);
      this.reachable = true;
    } catch {
      this.reachable = false;
    }
    return this.reachable;
  }

  /** Lets in-flight messages finish, then closes. */
  async drain(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }
}

let turn: Promise<void> | undefined;

/**
 * Resolves once this turn of the event loop is over (setImmediate): the same promise for every
 * caller in the turn. The NATS client writes what a turn's microtasks queued in one socket write,
 * and a write costs more than the message on these machines: acknowledgements and publishes
 * made after `await endOfTurn()` leave together instead of one write each.
 */
export function endOfTurn(): Promise<void> {
  turn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  );
  return turn;
}

/** `S`, unless it names a domain event: then a type whose name says where such an event is published. */
export type NotADomainSubject<S extends string> = S extends Subject ? "domain events are published with uow.publish, inside ctx.work" : S;
