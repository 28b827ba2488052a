import { AckPolicy, connect, DeliverPolicy, type NatsConnection } from "nats";

/** Subscribes to every stored and future message of some subjects, so a test can wait for an event. */
export class EventRecorder {
  readonly events: Array<{ subject: string; id: string; data: any }> = [];
  private waiters: Array<() => void> = [];
  private constructor(private readonly nc: NatsConnection) {}

  static async start(url: string, subjects = ["ticket.>", "order.>", "payment.>", "expiration.>"]): Promise<EventRecorder> {
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const rec = new EventRecorder(nc);
    for (const subject of subjects) {
      nc.subscribe(subject, {
        callback: (_err, msg) => {
          try {
            const env = JSON.parse(new TextDecoder().decode(msg.data));
            rec.events.push({ subject: msg.subject, id: env.id, data: env.data });
          } catch {
            rec.events.push({ subject: msg.subject, id: "", data: new TextDecoder().decode(msg.data) });
          }
          rec.waiters.forEach((w) => w());
        },
      });
    }
    await nc.flush();
    return rec;
  }

  of(subject: string) {
    return this.events.filter((e) => e.subject === subject);
  }

  /** Resolves with the first recorded event matching, waiting up to timeoutMs. */
  async waitFor(subject: string, match: (data: any) => boolean = () => true, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.subject === subject && match(e.data));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${subject} event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  async close() {
    await this.nc.close();
  }
}

/** Polls `check` until it returns a truthy value (or its assertion stops throwing). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw lastError instanceof Error ? lastError : new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { AckPolicy, DeliverPolicy };
