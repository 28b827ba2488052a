import type { ConsumerMessages } from "nats";
import pino from "pino";
import { Bus, openReader, streams } from "@ticketforge/common";
import { eventually } from "@ticketforge/common/testing";

export interface RecordedEvent {
  subject: string;
  /** The envelope id ("" when the body is not an envelope). */
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
  seq: number;
}

/**
 * Reads every event the streams store (not what was merely sent: JetStream drops duplicates), so a
 * test can wait for an event and count what consumers will see.
 */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  private readers: ConsumerMessages[] = [];
  private constructor(private readonly bus: Bus) {}

  static async start(url: string): Promise<EventRecorder> {
    const bus = await Bus.connect({ url, name: "event-recorder", log: pino({ level: "silent" }) });
    const rec = new EventRecorder(bus);
    for (const stream of streams) {
      const consumer = await openReader(bus, stream.name, stream.subjects[0]);
      const messages = await consumer.consume();
      rec.readers.push(messages);
      void (async () => {
        for await (const msg of messages) {
          let id = "";
          let data: unknown;
          try {
            const env = JSON.parse(new TextDecoder().decode(msg.data));
            id = env.id ?? "";
            data = env.data;
          } catch {
            data = new TextDecoder().decode(msg.data);
          }
          rec.events.push({ subject: msg.subject, id, data, seq: msg.seq });
        }
      })().catch(() => undefined);
    }
    return rec;
  }

  of(subject: string) {
    return this.events.filter((e) => e.subject === subject);
  }

  /** Resolves with the first recorded event matching, waiting up to timeoutMs. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async waitFor(subject: string, match: (data: any) => boolean = () => true, timeoutMs = 10_000) {
    return eventually(() => this.events.find((e) => e.subject === subject && match(e.data)), timeoutMs);
  }

  async close() {
    for (const r of this.readers) await r.close()?.catch(() => undefined);
    await this.bus.drain();
  }
}

export { eventually };
