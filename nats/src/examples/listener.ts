/**
 * Listens to ticket.created on a durable consumer of its own, with the same machinery as the
 * services (schema check, inbox, retries, dead letters), on a PostgreSQL database of its own:
 *   NATS_URL=nats://… [NATS_USER=… NATS_PASSWORD=…] DATABASE_URL=postgres://… npm run listen-example -w @ticketforge/nats
 * Start two of them: they share the durable consumer, so each event is handled by one.
 */
import {
  EventConsumer,
  OutboxRelay,
  commonMigrationsDir,
  createLogger,
  fromCents,
  listener,
  migrate,
  openDatabase,
  workPipeline,
} from "@ticketforge/common";
import { connectFromEnv } from "./connect";

async function main() {
  const log = createLogger("example-listener");
  if (!process.env.DATABASE_URL) throw new Error("Set DATABASE_URL to a PostgreSQL database for the example's inbox");
  const database = await openDatabase({ url: process.env.DATABASE_URL });
  await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }]);
  const bus = await connectFromEnv("example-listener", log);
  // each event is handled in a unit of work, as in the services (the inbox row is its first statement)
  const relay = new OutboxRelay({ db: database.db, log, publish: (subject, body, msgId) => bus.publish(subject, body, msgId) });
  const work = workPipeline({ database, relay, log }, []);
  const consumer = new EventConsumer(
    listener({
      subject: "ticket.created",
      async handle(event) {
        log.info({ eventId: event.id, title: event.data.title, price: fromCents(event.data.price) }, "ticket created");
      },
    }),
    { bus, work, log, service: "example", maxDeliver: 5 },
  );
  await consumer.start();
  log.info("listening to ticket.created; Ctrl-C to stop");
  const stop = async () => {
    await consumer.stop();
    await bus.drain();
    await database.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

void main();
