import type { JsMsg } from "nats";
import { openReader } from "./reader";
import type { Bus } from "./bus";
import { durableName } from "./durables";
import { deadLetterStream, streamOf, subjects, type Subject } from "../events/subjects";

/**
 * What a dead letter says about itself. Only informative: anyone allowed to publish a letter
 * writes these, so nothing that decides what a replay does is read from them except the
 * original's stream sequence, which is checked against the stored message (see replayDeadLetters).
 */
export const deadLetterHeaders = {
  subject: "TF-Original-Subject",
  service: "TF-Service",
  consumer: "TF-Consumer",
  error: "TF-Error",
  deliveries: "TF-Deliveries",
  stream: "TF-Original-Stream",
  seq: "TF-Original-Seq",
} as const;

const prefix = deadLetterStream.subjects[0].replace(">", "");

/** Parks a message with its error and delivery count; the original body is kept byte for byte. */
export async function deadLetter(bus: Bus, entry: { service: string; consumer: string; msg: JsMsg; error: string }): Promise<void> {
  const { msg } = entry;
  await bus.publish(`${prefix}${entry.service}.${msg.subject}`, msg.data, `${entry.consumer}:${msg.seq}`, {
    [deadLetterHeaders.subject]: msg.subject,
    [deadLetterHeaders.service]: entry.service,
    [deadLetterHeaders.consumer]: entry.consumer,
    [deadLetterHeaders.error]: entry.error.replace(/[\r\n]+/g, " | ").slice(0, 4_000),
    [deadLetterHeaders.deliveries]: String(msg.info.deliveryCount),
    [deadLetterHeaders.stream]: msg.info.stream,
    [deadLetterHeaders.seq]: String(msg.seq),
  });
}

export interface DeadLetter {
  seq: number;
  /**
   * The service and subject come from the letter's own subject, deadletter.<service>.<subject>,
   * which the NATS server lets only that service publish (natsPermissions); the headers saying
   * the same are the publisher's word and are not used.
   */
  subject: string;
  service: string;
  consumer: string;
  error: string;
  deliveries: number;
  /** The stream sequence of the original message, as the letter claims it. */
  originalSeq?: number;
  body: string;
}

/** Lists the dead letters of one service (or all), oldest first. */
export async function listDeadLetters(bus: Bus, service?: string): Promise<DeadLetter[]> {
  const filter = service ? `${prefix}${service}.>` : `${prefix}>`;
  const info = await bus.jsm.streams.info(deadLetterStream.name);
  if (info.state.messages === 0) return [];
  const consumer = await openReader(bus, deadLetterStream.name, filter);
  const out: DeadLetter[] = [];
  for (;;) {
    const msg = await consumer.next({ expires: 1_000 });
    if (!msg) break;
    const h = msg.headers;
    const [letterService = "", ...rest] = msg.subject.slice(prefix.length).split(".");
    const seq = Number(h?.get(deadLetterHeaders.seq));
    out.push({
      seq: msg.seq,
      subject: rest.join("."),
      service: letterService,
      consumer: h?.get(deadLetterHeaders.consumer) ?? "",
      error: h?.get(deadLetterHeaders.error) ?? "",
      deliveries: Number(h?.get(deadLetterHeaders.deliveries) ?? 0),
      originalSeq: Number.isSafeInteger(seq) && seq > 0 ? seq : undefined,
      body: new TextDecoder().decode(msg.data),
    });
    if (msg.info.pending === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  return out;
}

export interface ReplayOptions {
  /** Told of each letter that is not replayed and why; it stays in the dead-letter stream. */
  onRefused?: (letter: DeadLetter, reason: string) => void;
}

/**
 * Redelivers dead-lettered events after the cause is fixed and removes their letters from the
 * dead-letter stream. A letter is only a pointer: what is published again is the message stored
 * in the event's own stream at the letter's sequence, subject and body as its publisher wrote
 * them, and only when the service that parked the letter has a consumer of that subject. So a
 * letter forged by another service (tickets publishing "orders' payment.completed") cannot
 * become an event: at most it redelivers an event that really was published, which every
 * consumer that handled it skips (inbox). Notices for an operator (a refund that keeps failing)
 * are no events: they stay where they are.
 */
export async function replayDeadLetters(bus: Bus, service?: string, options: ReplayOptions = {}): Promise<number> {
  const letters = (await listDeadLetters(bus, service)).filter((l) => (subjects as readonly string[]).includes(l.subject));
  let replayed = 0;
  for (const letter of letters) {
    const original = await storedOriginal(bus, letter);
    if (typeof original === "string") {
      options.onRefused?.(letter, original);
      continue;
    }
    await bus.publish(original.subject, original.data, `replay:${letter.seq}:${Date.now()}`);
    await bus.jsm.streams.deleteMessage(deadLetterStream.name, letter.seq, false);
    replayed++;
  }
  return replayed;
}

/** The stored message a letter points to, or why there is none to replay. */
async function storedOriginal(bus: Bus, letter: DeadLetter): Promise<{ subject: string; data: Uint8Array } | string> {
  const subject = letter.subject as Subject;
  const stream = streamOf(subject);
  if (letter.originalSeq === undefined) return "the letter names no stream sequence of its original";
  try {
    await bus.jsm.consumers.info(stream, durableName(letter.service, subject));
  } catch {
    return `${letter.service} has no consumer of ${subject}: it cannot have parked this letter`;
  }
  let stored;
  try {
    stored = await bus.jsm.streams.getMessage(stream, { seq: letter.originalSeq });
  } catch (err) {
    return `message ${letter.originalSeq} of ${stream} is not there (${(err as Error).message}): past the stream's limits, or never stored`;
  }
  if (stored.subject !== subject) return `message ${letter.originalSeq} of ${stream} is a ${stored.subject}, not a ${subject}`;
  return { subject: stored.subject, data: stored.data };
}

/**
 * Text from a letter made safe for a terminal: control characters (escape sequences could
 * rewrite the operator's screen or title, or hide lines), and the bidirectional overrides that
 * reorder what is shown, are written as \u escapes.
 */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** One letter as `npm run dead-letters` shows it: two lines, every field made printable. */
export function formatDeadLetter(l: DeadLetter): string {
  return (
    `#${l.seq} ${printable(l.service)} ${printable(l.subject)} after ${l.deliveries} deliveries: ${printable(l.error.slice(0, 300))}\n` +
    `    ${printable(l.body.slice(0, 300))}`
  );
}
