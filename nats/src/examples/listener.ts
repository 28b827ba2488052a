/**
 * Listens to ticket.created on a durable consumer of its own, with the same machinery as the
 * services (schema check, inbox, retries, dead letters), on a PostgreSQL database of its own:
 *   NATS_URL=nats://127.0.0.1:4222 DATABASE_URL=postgres://… npm run listen-example -w @ticketforge/nats
 * Start two of them: they share the durable consumer, so each event is handled by one.
 */
import { Bus, EventConsumer, commonMigrationsDir, createLogger, fromCents, listener, migrate, openDatabase } from "@ticketforge/common";

async function main() {
  const log = createLogger("example-listener");
  if (!process.env.DATABASE_URL) throw new Error("Set DATABASE_URL to a PostgreSQL database for the example's inbox");
  const database = await openDatabase({ url: process.env.DATABASE_URL });
  await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }]);
  const bus = await Bus.connect({ url: process.env.NATS_URL ?? "nats://127.0.0.1:4222", name: "example-listener", log });
  const consumer = new EventConsumer(
    listener("ticket.created", async (event) => {
      log.info({ eventId: event.id, title: event.data.title, price: fromCents(event.data.price) }, "ticket created");
    }),
    { bus, db: database.db, log, service: "example", maxDeliver: 5 },
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
