/**
 * Publishes one ticket.created event the way a service does (envelope, Nats-Msg-Id), to watch
 * the listener example or a service react:
 *   NATS_URL=nats://… [NATS_USER=… NATS_PASSWORD=…] npm run publish-example -w @ticketforge/nats -- "Concert" 20.5
 */
import { randomUUID } from "node:crypto";
import { checkEventData, createLogger, toCents } from "@ticketforge/common";
import { connectFromEnv } from "./connect";

async function main() {
  const [title = "Example concert", price = "20"] = process.argv.slice(2);
  const log = createLogger("example-publisher");
  const bus = await connectFromEnv("example-publisher", log);
  const data = checkEventData("ticket.created", {
    id: randomUUID(),
    title,
    price: toCents(Number(price)),
    userId: randomUUID(),
    version: 0,
  });
  const envelope = { id: randomUUID(), type: "ticket.created", occurredAt: new Date().toISOString(), data };
  // the raw client: this tool plays a service's outbox (bus.publish refuses domain subjects)
  const ack = await bus.js.publish("ticket.created", new TextEncoder().encode(JSON.stringify(envelope)), { msgID: envelope.id });
  log.info({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate, event: envelope }, "published");
  await bus.drain();
}

void main();
