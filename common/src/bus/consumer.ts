import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type ConsumerMessages, type JsMsg } from "nats";
import type { Logger } from "pino";
import { sql } from "kysely";
import { endOfTurn, type Bus } from "./bus";
import { isUniqueViolation, sendWithNext, type Db, type Tx } from "../db/database";
import { MalformedEventError, parseEnvelope } from "../events/schemas";
import { streamOf, type Subject } from "../events/subjects";
import { AlreadyApplied, RetryLater, type HandlerLog, type Listener } from "./listener";
import { versionOutcome } from "../versions";
import { deadLetter } from "./dead-letter";
import { databaseUnavailable } from "../db/unavailable";
import { takeWrittenEvents, type WrittenEvent } from "../outbox";
import { SpanKind, trace, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { contextFrom, inSpan } from "../telemetry/tracing";
import type { EventOutcome, ServiceMetrics } from "../telemetry/metrics";

export interface ConsumerOptions {
  bus: Bus;
  db: Db;
  log: Logger;
  /** Service name: with the subject it names the durable consumer that all replicas share. */
  service: string;
  /** Deliveries of a failing event before it is dead-lettered. */
  maxDeliver: number;
  /** First retry delay; doubles each delivery up to maxRetryDelayMs. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Deliveries an event may wait for another (RetryLater) before it is dead-lettered. */
  maxWaitDeliveries?: number;
  /**
   * Messages handled at once (default 8). Two events of the same lane (the same ticket, or the
   * same order for payment and expiry events; see laneOf) never are, so versions still apply in
   * order and two orders for one ticket keep their order.
   */
  concurrency?: number;
  /**
   * A handler still running after this long is given up (default 20 s, below the 30 s ack wait):
   * its transaction rolls back and the event is retried like any failure.
   */
  handlerTimeoutMs?: number;
  /** Called after a handler's transaction commits, with the outbox rows it wrote (to publish them at once). */
  afterCommit?: (written: WrittenEvent[]) => void;
  /** Spans of the handling, continuing the publisher's trace (the no-op tracer when absent). */
  tracer?: Tracer;
  /** Handling duration and outcome by subject. */
  metrics?: ServiceMetrics;
}

/** Reads the trace context (traceparent) the relay put in the message headers. */
const headerGetter: TextMapGetter<JsMsg["headers"]> = {
  keys: (h) => (h ? h.keys() : []),
  get: (h, key) => h?.get(key) || undefined,
};

export function durableName(service: string, subject: Subject): string {
  return `${service}-${subject.replace(/\./g, "-")}`;
}

/** The durable pull consumer of one (service, subject): the listener creates it, or the admin provisions it. */
export function durableConfig(service: string, subject: Subject): Partial<ConsumerConfig> {
  return {
    durable_name: durableName(service, subject),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
    ack_wait: nanos(30_000),
    max_ack_pending: 1_000,
  };
}

/**
 * Runs one listener on its durable pull consumer: every message is parsed and checked, handled
 * inside a transaction that also records its id in the inbox, then acked. Failures are retried
 * with back-off and, past the bound, parked in the dead-letter stream; nothing blocks the stream.
 */
export class EventConsumer<S extends Subject> {
  private messages?: ConsumerMessages;
  private stopping = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  readonly durable: string;
  private readonly stream: string;

  constructor(
    private readonly listener: Listener<S>,
    private readonly options: ConsumerOptions,
  ) {
    this.durable = durableName(options.service, listener.subject);
    this.stream = streamOf(listener.subject);
  }

  async start(): Promise<void> {
    const { jsm } = this.options.bus;
    try {
      await jsm.consumers.info(this.stream, this.durable);
    } catch {
      try {
        await jsm.consumers.add(this.stream, durableConfig(this.options.service, this.listener.subject));
      } catch (err) {
        if (!String((err as Error).message).includes("already")) throw err;
      }
    }
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const log = this.options.log.child({ consumer: this.durable });
    while (!this.stopping) {
      try {
        const consumer = await this.options.bus.js.consumers.get(this.stream, this.durable);
        // pulls that expire every 5 s (heartbeats every 2.5 s): a pull lost with a NATS node is
        // noticed and renewed within seconds, not after the default 30 s twice
        this.messages = await consumer.consume({ max_messages: 100, expires: 5_000 });
        // Up to `concurrency` messages at once, each after the previous one of its lane (entity).
        const limit = this.options.concurrency ?? 8;
        const lanes = new Map<string, Promise<void>>();
        for await (const msg of this.messages) {
          while (this.inFlight.size >= limit) await Promise.race(this.inFlight);
          const parsed = parseJson(msg.data);
          const lane = laneOf(this.listener.subject, parsed);
          const work = (lanes.get(lane) ?? Promise.resolve())
            .then(() => this.process(msg, parsed, log))
            .catch((err) => log.error({ err, seq: msg.seq }, "event handling failed outside its handler; redelivered after the ack wait"));
          lanes.set(lane, work);
          this.inFlight.add(work);
          void work.finally(() => {
            this.inFlight.delete(work);
            if (lanes.get(lane) === work) lanes.delete(lane);
          });
          if (this.stopping) break;
        }
      } catch (err) {
        if (this.stopping) break;
        log.warn({ err }, "consumer interrupted; resuming");
      }
      if (!this.stopping) await sleep(500);
    }
  }

  /** One span and one timed outcome per delivery, in the trace of the work that published it. */
  private process(msg: JsMsg, parsed: unknown, log: Logger): Promise<void> {
    const started = performance.now();
    const tracer = this.options.tracer ?? trace.getTracer("consumer");
    return inSpan(
      tracer,
      `${this.listener.subject} process`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextFrom(msg.headers, headerGetter),
        attributes: {
          "messaging.system": "nats",
          "messaging.destination.name": this.listener.subject,
          "messaging.consumer.group.name": this.durable,
          "messaging.nats.delivery_count": msg.info.deliveryCount,
        },
      },
      async (span) => {
        const outcome = await this.handle(msg, parsed, log, span);
        span.setAttribute("ticketforge.event.outcome", outcome);
        this.options.metrics?.eventDuration.observe({ subject: this.listener.subject, outcome }, (performance.now() - started) / 1000);
      },
    );
  }

  private async handle(msg: JsMsg, parsed: unknown, log: Logger, span: Span): Promise<EventOutcome> {
    const { subject } = this.listener;
    const deliveries = msg.info.deliveryCount;
    let event;
    try {
      if (parsed instanceof NotJson) throw parsed;
      event = parseEnvelope(subject, parsed);
    } catch (err) {
      const error = err instanceof MalformedEventError ? err : new MalformedEventError((err as Error).message);
      log.error({ seq: msg.seq, err: error.message }, "malformed event; dead-lettered");
      await this.park(msg, error.message, log);
      return "dead_lettered";
    }
    span.setAttribute("messaging.message.id", event.id);
    const eventLog = log.child({ eventId: event.id, subject });
    const handlerLog = logAfterCommit(eventLog);
    try {
      let used: Tx | undefined;
      await this.options.db.transaction().execute(async (tx) => {
        used = tx;
        // The inbox row needs no answer: it travels with the handler's first statement (or the
        // commit). A redelivered event breaks its primary key there, before anything of the
        // handler runs on the server, and the transaction rolls back.
        await sql`${sendWithNext}insert into inbox (consumer, event_id) values (${this.durable}, ${event.id})`.execute(tx);
        await withTimeout(this.listener.handle(event, { tx, log: handlerLog.log }), this.options.handlerTimeoutMs ?? 20_000);
      });
      await endOfTurn();
      msg.ack();
      handlerLog.flush();
      eventLog.debug({ deliveries }, "event handled");
      this.options.afterCommit?.(takeWrittenEvents(used!));
      return "handled";
    } catch (caught) {
      if (isUniqueViolation(caught, "inbox_pkey")) {
        msg.ack();
        eventLog.debug({ deliveries }, "duplicate event ignored");
        return "duplicate";
      }
      const err = versionOutcome(caught);
      if (err instanceof AlreadyApplied) {
        msg.ack();
        eventLog.debug({ reason: err.message }, "event already applied; acked");
        return "duplicate";
      }
      if (err instanceof RetryLater) {
        if (deliveries >= (this.options.maxWaitDeliveries ?? 120)) {
          eventLog.error({ reason: err.message, deliveries }, "event waited too long; dead-lettered");
          await this.park(msg, `waited too long: ${err.message}`, log);
          return "dead_lettered";
        }
        eventLog.info({ reason: err.message, deliveries }, "event not applicable yet; redelivery later");
        msg.nak(err.delayMs);
        return "retried";
      }
      // a database that is down is no fault of the event: it waits, however long that takes
      if (deliveries >= this.options.maxDeliver && !databaseUnavailable(caught)) {
        eventLog.error({ err, deliveries }, "handler failed; dead-lettered");
        await this.park(msg, (err as Error).stack ?? String(err), log);
        return "dead_lettered";
      }
      const base = this.options.retryBaseMs ?? 500;
      // a database that is down comes back within seconds: tried again every second, not later and later
      const delay = databaseUnavailable(caught) ? 1_000 : Math.min(base * 2 ** (deliveries - 1), this.options.maxRetryDelayMs ?? 30_000);
      eventLog.warn({ err, deliveries, retryInMs: delay }, "handler failed; will retry");
      msg.nak(delay);
      return "retried";
    }
  }

  private async park(msg: JsMsg, error: string, log: Logger) {
    try {
      await deadLetter(this.options.bus, { service: this.options.service, consumer: this.durable, msg, error });
      msg.term();
    } catch (err) {
      // keep the message in its stream until the dead-letter stream can take it
      log.warn({ err }, "cannot dead-letter yet; retrying");
      msg.nak(1_000);
    }
  }

  /** Stops fetching, lets the message being handled finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    // not awaited: the iterator carries out the close only when it is read again, and the loop
    // stops reading once the messages in hand are done, so waiting for it could hang forever
    this.messages?.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await Promise.race([this.loop, sleep(2_000)]);
  }
}

/**
 * A handler's log lines say what it did, which is only true once its transaction has committed
 * (a check that travels with a later statement can still undo it all): they are written after
 * the commit, and dropped when the transaction rolls back, where the consumer's own line says why.
 */
function logAfterCommit(log: Logger): { log: HandlerLog; flush(): void } {
  const lines: Array<() => void> = [];
  const later = (level: keyof HandlerLog) =>
    ((...args: unknown[]) => {
      lines.push(() => (log[level] as (...a: unknown[]) => void).apply(log, args));
    }) as HandlerLog[keyof HandlerLog];
  return {
    log: { debug: later("debug"), info: later("info"), warn: later("warn"), error: later("error") },
    flush: () => {
      for (const line of lines.splice(0)) line();
    },
  };
}

class NotJson extends Error {}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    return new NotJson(`not JSON: ${(err as Error).message}`);
  }
}

/**
 * The lane of an event: events in one lane are handled one after another, in stream order.
 * It is the ticket for every ticket and order event, because handlers decide on the ticket
 * (two orders' events for one ticket must not overtake each other: an older order's creation
 * handled after a newer one's would wait for a cancellation that cannot apply before it), and
 * one order's events always name the same ticket. Payment and expiry events go by their order.
 */
function laneOf(subject: string, parsed: unknown): string {
  const data = (parsed as { data?: { id?: unknown; orderId?: unknown; ticket?: { id?: unknown } } } | null)?.data;
  const key = subject.startsWith("order.") ? data?.ticket?.id : subject.startsWith("ticket.") ? data?.id : (data?.orderId ?? data?.id);
  return typeof key === "string" ? key : "";
}

class HandlerTimeout extends Error {}

/** Rejects when `work` takes longer than `ms`; the transaction around it then rolls back. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeout(`handler still running after ${ms} ms; given up`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}
