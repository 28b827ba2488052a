import { sql } from "kysely";
import { startNatsServer, eventually, type NatsServer } from "@ticketforge/nats";
import { EventConsumer, OutboxRelay, listener, workPipeline, type Bus, type Database } from "../src";
import { silentLogger } from "../src/testing";
import { setup } from "./helpers";

let nats: NatsServer;
let database: Database;
let bus: Bus;

beforeAll(async () => {
  nats = await startNatsServer();
  ({ database, bus } = await setup(nats.url));
  await sql`create table received (ticket_id text primary key)`.execute(database.db);
});
afterAll(async () => {
  await bus?.drain();
  await database?.close();
  await nats?.destroy();
});

describe("a nats-server crash", () => {
  test("When nats-server is killed for a few seconds while events are published, then nothing is lost and publishing resumes by itself", async () => {
    const relay = new OutboxRelay({
      db: database.db,
      log: silentLogger(),
      sweepIntervalMs: 200,
      sweepAfterMs: 200,
      publish: (subject, body, id) => bus.publish(subject, body, id),
    }).start();
    const work = workPipeline({ database, relay, log: silentLogger() }, []);
    const consumer = new EventConsumer(
      listener({
        subject: "ticket.created",
        async handle(event, uow) {
          await sql`insert into received values (${event.data.id})`.execute(uow.db);
        },
      }),
      { bus, work, log: silentLogger(), service: "restart", maxDeliver: 5, retryBaseMs: 50 },
    );
    await consumer.start();

    const total = 100;
    let published = 0;
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        await work(async (uow) => uow.publish("ticket.created", { id: `t-${i}`, title: "T", price: 100, userId: "u", version: 0 }));
        published++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await eventually(() => published >= 15);
    await nats.stop(); // SIGKILL, like a crash
    const atCrash = published;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(published).toBeGreaterThan(atCrash); // the service kept working while the broker was down
    expect(await relay.pending()).toBeGreaterThan(0); // its events waited in the outbox
    await nats.start(); // same port, same store
    await producer;

    await eventually(async () => {
      const r = await sql<{ n: string }>`select count(*) as n from received`.execute(database.db);
      return Number(r.rows[0].n) === total;
    }, 30_000);
    expect(await relay.pending()).toBe(0);
    const stream = await bus.jsm.streams.info("TICKETS");
    expect(stream.state.messages).toBe(total); // no event stored twice
    await consumer.stop();
    await relay.stop();
  });
});
