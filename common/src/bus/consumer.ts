import type { ConsumerMessages, JsMsg } from "nats";
import { durableConfig, durableName } from "./durables";
import type { Logger } from "pino";
import { endOfTurn, type Bus } from "./bus";
import { isUniqueViolation } from "../db/database";
import { MalformedEventError, parseEnvelope, type Envelope } from "../events/schemas";
import { streamOf, type Subject } from "../events/subjects";
import type { Listener } from "./listener";
import { AlreadyApplied, RetryLater, versionOutcome } from "../versions";
import { deadLetter } from "./dead-letter";
import type { Work } from "../unit-of-work";
import { databaseUnavailable } from "../db/unavailable";
import { SpanKind, trace, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { contextFrom, inSpan } from "../telemetry/tracing";
import type { EventOutcome, ServiceMetrics } from "../telemetry/metrics";

export interface ConsumerOptions<DB> {
  bus: Bus;
  /** The service's unit-of-work pipeline: each event is handled in one. */
  work: Work<DB>;
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
   * Messages handled at once (default 8). Two events with the same key (the listener's
   * `orderedBy`) never are: the later one waits for the earlier, in stream order.
   */
  concurrency?: number;
  /**
   * A handler still running after this long is given up (default 20 s, below the 30 s ack wait):
   * its unit of work's signal fires, so it sends no further statement and its running one is
   * cancelled; the transaction rolls back and the event is retried like any failure.
   */
  handlerTimeoutMs?: number;
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

/**
 * Runs one listener on its durable pull consumer: every message is parsed and checked, handled
 * inside a transaction that also records its id in the inbox, then acked. Failures are retried
 * with back-off and, past the bound, parked in the dead-letter stream; nothing blocks the stream.
 */
export class EventConsumer<S extends Subject, DB> {
  private messages?: ConsumerMessages;
  private stopping = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  readonly durable: string;
  private readonly stream: string;

  constructor(
    private readonly listener: Listener<S, DB>,
    private readonly options: ConsumerOptions<DB>,
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
        // Up to `concurrency` messages at once, each after the previous one with its key.
        const limit = this.options.concurrency ?? 8;
        const lanes = new Map<string, Promise<void>>();
        for await (const msg of this.messages) {
          while (this.inFlight.size >= limit) await Promise.race(this.inFlight);
          const parsed = this.parse(msg);
          const lane = parsed instanceof Error ? "" : this.keyOf(parsed);
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

  /** The event, checked against its schema; a malformed one is returned as the error to park it with. */
  private parse(msg: JsMsg): Envelope<S> | MalformedEventError {
    try {
      return parseEnvelope(this.listener.subject, JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (err) {
      return err instanceof MalformedEventError ? err : new MalformedEventError(`not JSON: ${(err as Error).message}`);
    }
  }

  /** The listener's ordering key; a key it cannot compute orders nothing. */
  private keyOf(event: Envelope<S>): string {
    try {
      return this.listener.orderedBy?.(event) ?? "";
    } catch {
      return "";
    }
  }

  /** One span and one timed outcome per delivery, in the trace of the work that published it. */
  private process(msg: JsMsg, parsed: Envelope<S> | MalformedEventError, log: Logger): Promise<void> {
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

  private async handle(msg: JsMsg, parsed: Envelope<S> | MalformedEventError, log: Logger, span: Span): Promise<EventOutcome> {
    const { subject } = this.listener;
    const deliveries = msg.info.deliveryCount;
    if (parsed instanceof MalformedEventError) {
      log.error({ seq: msg.seq, err: parsed.message }, "malformed event; dead-lettered");
      await this.park(msg, parsed.message, log);
      return "dead_lettered";
    }
    const event = parsed;
    span.setAttribute("messaging.message.id", event.id);
    const eventLog = log.child({ eventId: event.id, subject });
    const limit = this.options.handlerTimeoutMs ?? 20_000;
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(new HandlerTimeout(`handler still running after ${limit} ms; given up`)), limit);
    try {
      await this.options.work((uow) => this.listener.handle(event, uow), {
        inbox: { consumer: this.durable, eventId: event.id },
        signal: timer.signal,
        log: eventLog,
      });
      await endOfTurn();
      msg.ack();
      eventLog.debug({ deliveries }, "event handled");
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
        const wait = retryLaterWait(err.delayMs, deliveries);
        eventLog.info({ reason: err.message, deliveries, retryInMs: wait }, "event not applicable yet; redelivery later");
        msg.nak(wait);
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
    } finally {
      clearTimeout(timeout);
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

class HandlerTimeout extends Error {}

/**
 * How long an event that must wait (RetryLater) waits before its next delivery: 100 ms the first
 * time, doubling up to the handler's `delayMs`. What it waits for (the ticket's reservation, the
 * previous version) is usually a few milliseconds behind it, so the first short wait catches it,
 * and one that is long in coming is asked about every `delayMs`, as before.
 */
export function retryLaterWait(delayMs: number, deliveries: number): number {
  return Math.min(delayMs, 100 * 2 ** Math.min(deliveries - 1, 20));
}

function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}
