import { randomUUID } from "node:crypto";
import type { Bus } from "../bus/bus";
import { durableName } from "../bus/durables";
import type { EventData } from "../events/schemas";
import { streamOf, type Subject } from "../events/subjects";

/** Polls `check` until it returns a truthy value (or its assertion stops throwing). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      lastError = undefined; // a stale error must not explain a later falsy result
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw lastError instanceof Error ? lastError : new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Publishes an event as another service would: a proper envelope, Nats-Msg-Id = its id. A `msgId`
 * other than the id simulates a redelivery JetStream cannot de-duplicate (e.g. a replay), which
 * the inbox must catch.
 */
export async function publishAs<S extends Subject>(
  bus: Bus,
  subject: S,
  data: EventData<S>,
  options: { id?: string; msgId?: string; occurredAt?: string } = {},
): Promise<{ id: string; seq: number }> {
  const id = options.id ?? randomUUID();
  const envelope = { id, type: subject, occurredAt: options.occurredAt ?? new Date().toISOString(), data };
  // the raw client: a test plays another service's outbox (bus.publish refuses domain subjects)
  const ack = await bus.js.publish(subject, new TextEncoder().encode(JSON.stringify(envelope)), { msgID: options.msgId ?? id });
  return { id, seq: ack.seq };
}

/** What a service's durable consumer of a subject has delivered and acknowledged. */
export interface ConsumerProbe {
  ctx: { bus: Bus };
  name: string;
}

async function consumerInfo(service: ConsumerProbe, subject: Subject) {
  return service.ctx.bus.jsm.consumers.info(streamOf(subject), durableName(service.name, subject));
}

/** Where the service's consumer of a subject stands now (to tell redeliveries later). */
export async function deliveriesSoFar(service: ConsumerProbe, subject: Subject): Promise<number> {
  return (await consumerInfo(service, subject)).delivered.consumer_seq;
}

/** Waits until the service acknowledged the message (handled, or found to have no effect). */
export async function waitAcked(service: ConsumerProbe, subject: Subject, seq: number) {
  await eventually(async () => (await consumerInfo(service, subject)).ack_floor.stream_seq >= seq);
}

/**
 * Waits until the message was refused and delivered again (it came early, or waits for another
 * event). `since` is deliveriesSoFar() taken before publishing it.
 */
export async function waitRedelivered(service: ConsumerProbe, subject: Subject, seq: number, since: number) {
  await eventually(async () => {
    const info = await consumerInfo(service, subject);
    return info.delivered.consumer_seq >= since + 2 && info.ack_floor.stream_seq < seq;
  });
}
