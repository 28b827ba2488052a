import { randomUUID } from "node:crypto";
import { headers } from "nats";
import { Bus, commonMigrationsDir, migrate, type Database, type Subject } from "../src";
import { openTestDatabase, silentLogger } from "../src/testing";

/** A database with the shared tables, and a bus on the given server. */
export async function setup(natsUrl: string): Promise<{ database: Database; bus: Bus }> {
  const database = await openTestDatabase();
  await migrate(database.db, [{ scope: "common", dir: commonMigrationsDir }]);
  const bus = await Bus.connect({ url: natsUrl, name: "common-test", log: silentLogger() });
  return { database, bus };
}

export function envelope<S extends Subject>(type: S, data: unknown, id: string = randomUUID()) {
  return { id, type, occurredAt: new Date().toISOString(), data };
}

/** Publishes a raw body (well-formed or not) the way a publisher would, with Nats-Msg-Id. */
export async function publishRaw(bus: Bus, subject: string, body: unknown, msgId: string = randomUUID()) {
  const h = headers();
  h.set("Nats-Msg-Id", msgId);
  const bytes = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  return bus.js.publish(subject, bytes, { msgID: msgId });
}

export const ticketData = (n = 0) => ({ id: `t-${n}`, title: `Ticket ${n}`, price: 1000 + n, userId: "u-1", version: 0 });
