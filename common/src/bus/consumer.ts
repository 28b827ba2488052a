import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type ConsumerMessages, type JsMsg } from "nats";
import type { Logger } from "pino";
import { sql } from "kysely";
import type { Bus } from "./bus";
import type { Db } from "../db/database";
import { MalformedEventError, parseEnvelope } from "../events/schemas";
import { streamOf, type Subject } from "../events/subjects";
import { AlreadyApplied, RetryLater, type Listener } from "./listener";
import { deadLetter } from "./dead-letter";

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
  /** Called after a handler's transaction commits (e.g. to publish the outbox at once). */
  afterCommit?: () => void;
}

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
  private inFlight: Promise<void> = Promise.resolve();
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
        this.messages = await consumer.consume({ max_messages: 100 });
        for await (const msg of this.messages) {
          const work = this.process(msg, log);
          this.inFlight = work;
          await work;
          if (this.stopping) break;
        }
      } catch (err) {
        if (this.stopping) break;
        log.warn({ err }, "consumer interrupted; resuming");
      }
      if (!this.stopping) await sleep(500);
    }
  }

  private async process(msg: JsMsg, log: Logger): Promise<void> {
    const { subject } = this.listener;
    const deliveries = msg.info.deliveryCount;
    let event;
    try {
      event = parseEnvelope(subject, JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (err) {
      const error = err instanceof MalformedEventError ? err : new MalformedEventError(`not JSON: ${(err as Error).message}`);
      log.error({ seq: msg.seq, err: error.message }, "malformed event; dead-lettered");
      await this.park(msg, error.message, log);
      return;
    }
    const eventLog = log.child({ eventId: event.id, subject });
    try {
      const handled = await this.options.db.transaction().execute(async (tx) => {
        const fresh = await sql`insert into inbox (consumer, event_id) values (${this.durable}, ${event.id})
          on conflict do nothing returning event_id`.execute(tx);
        if (fresh.rows.length === 0) return false;
        await this.listener.handle(event, { tx, log: eventLog });
        return true;
      });
      msg.ack();
      eventLog.debug({ deliveries, duplicate: !handled }, handled ? "event handled" : "duplicate event ignored");
      if (handled) this.options.afterCommit?.();
    } catch (err) {
      if (err instanceof AlreadyApplied) {
        msg.ack();
        eventLog.debug({ reason: err.message }, "event already applied; acked");
        return;
      }
      if (err instanceof RetryLater) {
        if (deliveries >= (this.options.maxWaitDeliveries ?? 120)) {
          eventLog.error({ reason: err.message, deliveries }, "event waited too long; dead-lettered");
          await this.park(msg, `waited too long: ${err.message}`, log);
        } else {
          eventLog.info({ reason: err.message, deliveries }, "event not applicable yet; redelivery later");
          msg.nak(err.delayMs);
        }
        return;
      }
      if (deliveries >= this.options.maxDeliver) {
        eventLog.error({ err, deliveries }, "handler failed; dead-lettered");
        await this.park(msg, (err as Error).stack ?? String(err), log);
        return;
      }
      const base = this.options.retryBaseMs ?? 500;
      const delay = Math.min(base * 2 ** (deliveries - 1), this.options.maxRetryDelayMs ?? 30_000);
      eventLog.warn({ err, deliveries, retryInMs: delay }, "handler failed; will retry");
      msg.nak(delay);
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
    try {
      await this.messages?.close();
    } catch {
      // connection already gone
    }
    await this.inFlight.catch(() => undefined);
    await Promise.race([this.loop, sleep(2_000)]);
  }
}

function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}
