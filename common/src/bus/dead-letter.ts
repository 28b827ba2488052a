import type { JsMsg } from "nats";
import { openReader } from "./reader";
import type { Bus } from "./bus";
import { deadLetterStream, subjects } from "../events/subjects";

export const deadLetterHeaders = {
  subject: "TF-Original-Subject",
  service: "TF-Service",
  consumer: "TF-Consumer",
  error: "TF-Error",
  deliveries: "TF-Deliveries",
  seq: "TF-Original-Seq",
} as const;

/** Parks a message with its error and delivery count; the original body is kept byte for byte. */
export async function deadLetter(
  bus: Bus,
  entry: { service: string; consumer: string; msg: JsMsg; error: string },
): Promise<void> {
  const { msg } = entry;
  await bus.publish(`deadletter.${entry.service}.${msg.subject}`, msg.data, `${entry.consumer}:${msg.seq}`, {
    [deadLetterHeaders.subject]: msg.subject,
    [deadLetterHeaders.service]: entry.service,
    [deadLetterHeaders.consumer]: entry.consumer,
    [deadLetterHeaders.error]: entry.error.replace(/[\r\n]+/g, " | ").slice(0, 4_000),
    [deadLetterHeaders.deliveries]: String(msg.info.deliveryCount),
    [deadLetterHeaders.seq]: String(msg.seq),
  });
}

export interface DeadLetter {
  seq: number;
  subject: string;
  service: string;
  consumer: string;
  error: string;
  deliveries: number;
  body: string;
}

/** Lists the dead letters of one service (or all), oldest first. */
export async function listDeadLetters(bus: Bus, service?: string): Promise<DeadLetter[]> {
  const filter = service ? `deadletter.${service}.>` : "deadletter.>";
  const info = await bus.jsm.streams.info(deadLetterStream.name);
  if (info.state.messages === 0) return [];
  const consumer = await openReader(bus, deadLetterStream.name, filter);
  const out: DeadLetter[] = [];
  for (;;) {
    const msg = await consumer.next({ expires: 1_000 });
    if (!msg) break;
    const h = msg.headers;
    out.push({
      seq: msg.seq,
      subject: h?.get(deadLetterHeaders.subject) ?? "",
      service: h?.get(deadLetterHeaders.service) ?? "",
      consumer: h?.get(deadLetterHeaders.consumer) ?? "",
      error: h?.get(deadLetterHeaders.error) ?? "",
      deliveries: Number(h?.get(deadLetterHeaders.deliveries) ?? 0),
      body: new TextDecoder().decode(msg.data),
    });
    if (msg.info.pending === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  return out;
}

/**
 * Publishes dead letters again on their original subject (after the cause is fixed) and removes
 * them from the dead-letter stream. Consumers that already handled the event skip it (inbox).
 */
export async function replayDeadLetters(bus: Bus, service?: string): Promise<number> {
  // notices for an operator (a refund that keeps failing) are no events: they stay where they are
  const letters = (await listDeadLetters(bus, service)).filter((l) => (subjects as readonly string[]).includes(l.subject));
  for (const letter of letters) {
    await bus.publish(letter.subject, new TextEncoder().encode(letter.body), `replay:${letter.seq}:${Date.now()}`);
    await bus.jsm.streams.deleteMessage(deadLetterStream.name, letter.seq, false);
  }
  return letters.length;
}
