import { sql } from "kysely";
import { startNatsServer, EventRecorder, eventually, type NatsServer } from "@ticketforge/nats";
import { OutboxRelay, openDatabase, workPipeline, type Bus, type Database, type RelayOptions, type Work } from "../src";
import { silentLogger, workOn } from "../src/testing";
import { setup, ticketData } from "./helpers";

let nats: NatsServer;
let database: Database;
let bus: Bus;
let recorder: EventRecorder;

beforeAll(async () => {
  nats = await startNatsServer();
  ({ database, bus } = await setup(nats.url));
  await sql`create table things (id text primary key)`.execute(database.db);
  recorder = await EventRecorder.start(nats.url);
});
afterAll(async () => {
  await recorder?.close();
  await bus?.drain();
  await database?.close();
  await nats?.destroy();
});

const realPublish = (subject: string, body: Uint8Array, msgId: string) => bus.publish(subject, body, msgId);

/** A relay on the test database whose every publish first goes through `before` (which may record, wait or throw). */
function relayWatching(before: (msgId: string) => unknown, options: Partial<RelayOptions> = {}): OutboxRelay {
  return new OutboxRelay({
    db: database.db,
    log: silentLogger(),
    ...options,
    publish: async (subject, body, msgId) => {
      await before(msgId);
      return realPublish(subject, body, msgId);
    },
  });
}

/** Units of work whose events are handed to `relay` after their commit, as in a service. */
const workThrough = (relay: OutboxRelay): Work<unknown> => workPipeline({ database, relay, log: silentLogger() }, []);

/** Units of work that commit their events without publishing them (their relay's publish never answers). */
const committedOnly = (): Work<unknown> => workOn(database, () => new Promise(() => undefined));

describe("transactional outbox", () => {
  test("When the relay fails between commit and publish, then the sweeper publishes the event exactly once", async () => {
    let failures = 0;
    const relay = relayWatching(
      () => {
        if (failures++ === 0) throw new Error("broker unreachable");
      },
      { sweepIntervalMs: 100, sweepAfterMs: 200 },
    );
    relay.start(); // the sweeper: succeeds, once the row is old enough to be its own
    const data = ticketData(1);
    // the fast path: fails
    const eventId = await workThrough(relay)(async (uow) => {
      await sql`insert into things (id) values ('one')`.execute(uow.db);
      return uow.publish("ticket.created", data);
    });
    await recorder.waitFor("ticket.created", (d) => d.id === data.id);
    await eventually(async () => (await relay.pending()) === 0);
    await new Promise((r) => setTimeout(r, 400)); // a few more sweeps must not publish again
    await relay.stop();
    expect(failures).toBeGreaterThanOrEqual(2);
    const seen = recorder.of("ticket.created").filter((e) => e.data.id === data.id);
    expect(seen).toHaveLength(1);
    expect(seen[0].id).toBe(eventId);
    const stored = await bus.jsm.streams.info("TICKETS");
    expect(stored.state.messages).toBeGreaterThanOrEqual(1);
  });

  test("When a transaction commits through the relay, then its events are published at once and marked, with no sweeper", async () => {
    const published: string[] = [];
    const relay = relayWatching((msgId) => published.push(msgId)); // never started: no sweeper
    const [a, b] = [ticketData(10), ticketData(11)];
    const ids = await workThrough(relay)(async (uow) => {
      await sql`insert into things (id) values ('fast')`.execute(uow.db);
      return [uow.publish("ticket.created", a), uow.publish("ticket.created", b)];
    });
    await recorder.waitFor("ticket.created", (d) => d.id === b.id);
    expect(
      recorder
        .of("ticket.created")
        .filter((e) => e.data.id === a.id)
        .map((e) => e.id),
    ).toEqual([ids[0]]);
    await eventually(async () => (await relay.pending()) === 0);
    expect(published.sort()).toEqual([...ids].sort());
    await relay.stop();
  });

  test("When the sweeper runs while the fast path is still publishing a burst, then it leaves those events to it: each is published once", async () => {
    const published: string[] = [];
    const relay = relayWatching(
      async (msgId) => {
        published.push(msgId);
        await new Promise((r) => setTimeout(r, 300));
      },
      // sweeps far more often than a publish takes: each would meet the burst's rows unmarked
      { sweepIntervalMs: 20 },
    ).start();
    try {
      const ids = await Promise.all(
        Array.from({ length: 10 }, (_, i) => workThrough(relay)(async (uow) => uow.publish("ticket.created", ticketData(200 + i)))),
      );
      await eventually(async () => (await relay.pending()) === 0);
      expect(published.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    } finally {
      await relay.stop();
    }
  });

  test("When several commits hand over their events in one turn of the event loop, then those events are published together once the turn is over", async () => {
    const rows = await Promise.all(
      [300, 301, 302].map((n) =>
        committedOnly()(async (uow) => {
          uow.publish("ticket.created", ticketData(n));
          return uow.events;
        }),
      ),
    );
    await new Promise((r) => setImmediate(r)); // the turn of those commits is over
    // counts the turns of the event loop while the test runs
    let turn = 0;
    let counting = true;
    const count = () => {
      turn++;
      if (counting) setImmediate(count);
    };
    count();
    const publishedIn: number[] = [];
    const relay = relayWatching(() => publishedIn.push(turn));
    try {
      const handedOverIn = turn;
      for (const r of rows) relay.publishCommitted(r);
      expect(publishedIn).toEqual([]); // not while the turn that handed them over runs
      await eventually(() => publishedIn.length === 3);
      expect(new Set(publishedIn).size).toBe(1);
      expect(publishedIn[0]).toBeGreaterThan(handedOverIn);
    } finally {
      counting = false;
      await relay.stop();
    }
  });

  test("When a burst of transactions commits, then the relay marks all their events published with one statement", async () => {
    // the relay gets a database of its own, so that every statement it sends can be counted
    const relayDb = await openDatabase({ url: database.url });
    let statements = 0;
    relayDb.pool.on("acquire", () => statements++);
    const relay = new OutboxRelay({ db: relayDb.db, log: silentLogger(), publish: realPublish, markDelayMs: 300 });
    try {
      const written = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          committedOnly()(async (uow) => {
            uow.publish("ticket.created", ticketData(100 + i));
            return uow.events;
          }),
        ),
      );
      // commits handed over one after another, as a burst of requests brings them
      for (const rows of written) {
        relay.publishCommitted(rows);
        await new Promise((r) => setTimeout(r, 10));
      }
      const ids = written.flat().map((r) => r.id);
      const unmarked = async () =>
        Number(
          (
            await sql<{ n: string }>`select count(*) as n from outbox where published_at is null and id = any(${ids}::uuid[])`.execute(
              database.db,
            )
          ).rows[0].n,
        );
      await eventually(async () => (await unmarked()) === 0);
      expect(statements).toBe(1);
    } finally {
      await relay.stop();
      await relayDb.close();
    }
  });

  test("When a unit of work rolls back, then nothing is published", async () => {
    const published: string[] = [];
    const relay = relayWatching((msgId) => published.push(msgId));
    await expect(
      workThrough(relay)(async (uow) => {
        uow.publish("ticket.created", ticketData(12));
        throw new Error("the change is refused");
      }),
    ).rejects.toThrow("the change is refused");
    await new Promise((r) => setTimeout(r, 200));
    expect(published).toEqual([]);
    await relay.stop();
  });

  test("When the transaction rolls back, then neither the state nor the event exists", async () => {
    const relay = new OutboxRelay({ db: database.db, log: silentLogger(), publish: realPublish });
    const data = ticketData(2);
    await expect(
      committedOnly()(async (uow) => {
        await sql`insert into things (id) values ('two')`.execute(uow.db);
        uow.publish("ticket.created", data);
        throw new Error("business rule failed");
      }),
    ).rejects.toThrow("business rule failed");
    await relay.flushOnce();
    const rows = await sql`select * from things where id = 'two'`.execute(database.db);
    expect(rows.rows).toHaveLength(0);
    expect(await relay.pending()).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.of("ticket.created").filter((e) => e.data.id === data.id)).toHaveLength(0);
  });

  test("When a publisher died after publishing but before marking, then JetStream drops the second copy", async () => {
    const data = ticketData(3);
    const id = await committedOnly()(async (uow) => uow.publish("ticket.created", data));
    const row = await sql<{ payload: unknown }>`select payload from outbox where id = ${id}`.execute(database.db);
    const ack = await realPublish("ticket.created", new TextEncoder().encode(JSON.stringify(row.rows[0].payload)), id);
    expect(ack.duplicate).toBe(false);
    const relay = new OutboxRelay({ db: database.db, log: silentLogger(), publish: realPublish });
    await relay.flushOnce();
    const second = await realPublish("ticket.created", new TextEncoder().encode("{}"), id);
    expect(second.duplicate).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.of("ticket.created").filter((e) => e.data.id === data.id)).toHaveLength(1);
  });

  test("When an event payload breaks its schema, then the transaction fails and nothing is written", async () => {
    await expect(
      committedOnly()(async (uow) => uow.publish("ticket.created", { id: "t", title: "x", price: 10.5, userId: "u", version: 0 })),
    ).rejects.toThrow(/price/);
  });
});
