import { randomUUID } from "node:crypto";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import { deadLetterHeaders, deadLetterStream, natsServers, streams } from "@ticketforge/common";

/** One message as a JetStream stream stores it. */
export interface StoredEvent {
  stream: string;
  seq: number;
  subject: string;
  /** The envelope id (the same in a re-published copy: that is what the inboxes recognise). */
  id: string;
  occurredAt: string;
  data: any;
  body: Uint8Array;
}

/** What the durable consumers still have to do, named for a failing assertion. */
export interface Backlog {
  consumer: string;
  pending: number;
  ackPending: number;
}

/**
 * The test's own look at the broker: what the streams store (not what was merely sent: JetStream
 * drops duplicate publishes) and whether every service's durable consumer has caught up. It reads
 * on demand and keeps no consumer of its own, so it survives nats-server being killed and started.
 */
export class Broker {
  /** Stored messages never change (limits retention, nothing deleted): each is read once. */
  private readonly cache = new Map<string, StoredEvent[]>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {}

  /** `admin`: the administrator's user on a server with authorization (the loopback cluster). */
  static async connect(url: string, admin?: { user: string; password: string }): Promise<Broker> {
    const nc = await connect({
      servers: natsServers(url),
      name: "e2e-test",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(admin && { user: admin.user, pass: admin.password }),
    });
    return new Broker(nc, await nc.jetstreamManager({ timeout: 10_000 }));
  }

  private reading: Promise<unknown> = Promise.resolve();

  /** Every event stored in the TICKETS, ORDERS, PAYMENTS and EXPIRATION streams, in stream order. */
  async events(): Promise<StoredEvent[]> {
    // one read at a time: concurrent callers would append the same new messages twice
    const read = this.reading.then(async () => {
      const all: StoredEvent[] = [];
      for (const { name } of streams) all.push(...(await this.read(name)));
      return all;
    });
    this.reading = read.catch(() => undefined);
    return read;
  }

  /** The stored events of one subject, optionally only those whose data matches. */
  async of(subject: string, match: (data: any) => boolean = () => true): Promise<StoredEvent[]> {
    return (await this.events()).filter((e) => e.subject === subject && match(e.data));
  }

  private async read(stream: string): Promise<StoredEvent[]> {
    const known = this.cache.get(stream) ?? [];
    const { state } = await this.jsm.streams.info(stream);
    const from = Math.max(state.first_seq, (known.at(-1)?.seq ?? 0) + 1);
    for (let seq = from; seq <= state.last_seq; seq++) {
      const msg = await this.jsm.streams.getMessage(stream, { seq });
      let id = "";
      let occurredAt = "";
      let data: unknown;
      try {
        const envelope = JSON.parse(new TextDecoder().decode(msg.data));
        id = envelope.id ?? "";
        occurredAt = envelope.occurredAt ?? "";
        data = envelope.data;
      } catch {
        data = new TextDecoder().decode(msg.data);
      }
      known.push({ stream, seq, subject: msg.subject, id, occurredAt, data, body: msg.data });
    }
    this.cache.set(stream, known);
    return known;
  }

  /** Durable consumers (the services') that still have messages to deliver or to see acknowledged. */
  async backlog(): Promise<Backlog[]> {
    const busy: Backlog[] = [];
    for (const { name } of streams) {
      for (const info of await this.jsm.consumers.list(name).next()) {
        if (!info.config.durable_name) continue; // a reader, not a service
        if (info.num_pending > 0 || info.num_ack_pending > 0) {
          busy.push({ consumer: info.name, pending: info.num_pending, ackPending: info.num_ack_pending });
        }
      }
    }
    return busy;
  }

  /** True once the durable consumer `durable` (e.g. "payments-order-created") has acknowledged `event`. */
  async handled(durable: string, event: StoredEvent): Promise<boolean> {
    const info = await this.jsm.consumers.info(event.stream, durable);
    return info.ack_floor.stream_seq >= event.seq;
  }

  /** The names of the services' durable consumers. */
  async durables(): Promise<string[]> {
    const names: string[] = [];
    for (const { name } of streams) {
      for (const info of await this.jsm.consumers.list(name).next()) if (info.config.durable_name) names.push(info.name);
    }
    return names.sort();
  }

  /**
   * The messages parked in the dead-letter stream (each one waits for an operator): which event,
   * which consumer, after how many deliveries, and why. A test that expects none shows them all
   * when there is one.
   */
  async deadLetters(): Promise<Array<{ subject: string; consumer: string; deliveries: number; error: string }>> {
    const { first_seq, last_seq, messages } = (await this.jsm.streams.info(deadLetterStream.name)).state;
    const letters = [];
    for (let seq = first_seq; messages > 0 && seq <= last_seq; seq++) {
      const m = await this.jsm.streams.getMessage(deadLetterStream.name, { seq }).catch(() => undefined);
      if (!m) continue;
      letters.push({
        subject: m.header.get(deadLetterHeaders.subject),
        consumer: m.header.get(deadLetterHeaders.consumer),
        deliveries: Number(m.header.get(deadLetterHeaders.deliveries)),
        error: m.header.get(deadLetterHeaders.error),
      });
    }
    return letters;
  }

  /** How many messages the event streams hold in all. */
  async stored(): Promise<number> {
    let n = 0;
    for (const { name } of streams) n += (await this.jsm.streams.info(name)).state.messages;
    return n;
  }

  /**
   * Waits until the whole system is at rest: every durable consumer has delivered and seen
   * acknowledged everything, and no new event was stored for `quietMs`. The quiet period is what
   * tells "nothing more is coming" from "the next event is still in an outbox": a handler's
   * commit is followed by its outbox publish within milliseconds, and a left-over row by the
   * sweeper within 2 s, so 2.5 s of silence with idle consumers means the system is settled.
   */
  async settle(timeoutMs = 60_000, quietMs = 2_500): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    let quietSince = Date.now();
    for (;;) {
      const [stored, busy] = [await this.stored(), await this.backlog()];
      if (stored !== last || busy.length > 0) {
        last = stored;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`the system did not settle within ${timeoutMs} ms; consumers still busy: ${JSON.stringify(busy)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Publishes a stored event once more, byte for byte, under a new Nats-Msg-Id so that JetStream
   * stores it instead of dropping it as a duplicate: what a producer retrying after a lost
   * acknowledgement, or an operator replaying a stream, does.
   */
  async republish(event: StoredEvent): Promise<void> {
    await this.nc.jetstream().publish(event.subject, event.body, { msgID: `again-${randomUUID()}` });
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}
