import { freePort, startNatsServer, eventually, type NatsServer } from "@ticketforge/nats";
import { sql } from "kysely";
import {
  EventConsumer,
  RetryLater,
  retryLaterWait,
  listDeadLetters,
  listener,
  replayDeadLetters,
  type Bus,
  type Database,
  type Envelope,
  type UnitOfWork,
} from "../src";
import pino from "pino";
import { logLines, silentLogger, workOn } from "../src/testing";
import { envelope, publishRaw, setup } from "./helpers";

let nats: NatsServer;
let database: Database;
let bus: Bus;
const consumers: EventConsumer<"ticket.created", unknown>[] = [];

type Handle = (event: Envelope<"ticket.created">, uow: UnitOfWork<unknown>) => Promise<void>;

/** A listener of ticket.created whose events are ordered by ticket, as a service would declare it. */
const ticketListener = (handle: Handle) => listener({ subject: "ticket.created", orderedBy: (e) => e.data.id, handle });

beforeAll(async () => {
  nats = await startNatsServer();
  ({ database, bus } = await setup(nats.url));
  await sql`create table effects (event_id text, note text)`.execute(database.db);
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await bus?.drain();
  await database?.close();
  await nats?.destroy();
});

let serviceCounter = 0;
/**
 * A consumer for one test: a new durable sees the whole stream (earlier tests' events too), so it
 * only passes on events whose ticket id starts with this test's prefix.
 */
async function consume(prefix: string, handle: Handle, service = `svc${serviceCounter++}`) {
  const c = new EventConsumer(
    ticketListener(async (event, uow) => {
      if (event.data.id.startsWith(prefix)) await handle(event, uow);
    }),
    {
      bus,
      work: workOn(database),
      log: silentLogger(),
      service,
      maxDeliver: 3,
      retryBaseMs: 50,
    },
  );
  await c.start();
  consumers.push(c);
  return { consumer: c, service };
}

const effects = async (note: string) =>
  (await sql<{ event_id: string }>`select event_id from effects where note = ${note}`.execute(database.db)).rows;

const ticket = (id: string, version = 0) => ({ id, title: "T", price: 100, userId: "u", version });

describe("consumers", () => {
  test("When the same event is delivered twice (a duplicate publish), then it has one effect", async () => {
    await consume("dup-", async (event, uow) => {
      await sql`insert into effects values (${event.id}, 'dup')`.execute(uow.db);
    });
    const e = envelope("ticket.created", ticket("dup-1"));
    await publishRaw(bus, "ticket.created", e, "a-1");
    await publishRaw(bus, "ticket.created", e, "a-2"); // a different Nats-Msg-Id gets past JetStream's de-dup
    await eventually(async () => (await effects("dup")).length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await effects("dup")).toHaveLength(1);
  });

  test("When a handler fails after writing and the event is redelivered after a nak, then the effect happens once", async () => {
    let calls = 0;
    await consume("nak-", async (event, uow) => {
      await sql`insert into effects values (${event.id}, 'nak')`.execute(uow.db);
      if (calls++ === 0) throw new Error("transient failure after the write");
    });
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("nak-1")));
    await eventually(async () => (await effects("nak")).length === 1);
    expect(calls).toBe(2);
  });

  test("When a handler keeps throwing, then it is retried with back-off and dead-lettered with its error after N deliveries", async () => {
    const times: number[] = [];
    const { service } = await consume("fail-", async () => {
      times.push(Date.now());
      throw new Error("database says no");
    });
    const e = envelope("ticket.created", ticket("fail-1"));
    await publishRaw(bus, "ticket.created", e);
    const letters = await eventually(async () => {
      const l = await listDeadLetters(bus, service);
      return l.length === 1 ? l : undefined;
    });
    expect(times).toHaveLength(3);
    // back-off doubles from retryBaseMs (50 ms): the server holds each redelivery at least that long
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(45);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(95);
    expect(letters[0]).toMatchObject({ subject: "ticket.created", service, deliveries: 3 });
    expect(letters[0].error).toContain("database says no");
    expect(JSON.parse(letters[0].body).id).toBe(e.id);
  });

  test("When the handler's database is unreachable for more deliveries than the dead-letter bound, then the event waits and is handled once it is back", async () => {
    const { Client } = await import("pg");
    const closedPort = await freePort();
    let calls = 0;
    const { service } = await consume("down-", async (event, uow) => {
      // the first five deliveries meet a database that refuses connections (the bound is 3)
      if (calls++ < 5) await new Client({ host: "127.0.0.1", port: closedPort, user: "x", database: "x" }).connect();
      await sql`insert into effects values (${event.id}, 'down')`.execute(uow.db);
    });
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("down-1")));
    await eventually(async () => (await effects("down")).length === 1, 20_000);
    expect(calls).toBe(6);
    expect(await listDeadLetters(bus, service)).toEqual([]);
  });

  test("When the consumer is stopped while it handles an event, then it finishes that event and stops at once", async () => {
    let started = false;
    const { consumer } = await consume("slow-", async (event, uow) => {
      started = true;
      await new Promise((r) => setTimeout(r, 300));
      await sql`insert into effects values (${event.id}, 'slow')`.execute(uow.db);
    });
    const e = envelope("ticket.created", ticket("slow-1"));
    await publishRaw(bus, "ticket.created", e);
    await eventually(() => started);
    const t0 = Date.now();
    await consumer.stop();
    // the handler's 300 ms, then at most the 2 s stop() gives the message iterator to close: not
    // the 5 s a pull lasts, nor the 30 s ack wait (1.5 s here was missed by 49 ms on a busy CI run)
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect((await effects("slow")).map((r) => r.event_id)).toEqual([e.id]);
  });

  test("When two replicas share one durable consumer, then each message is handled once", async () => {
    const seen: Record<string, number> = {};
    const handle = async (event: { id: string }) => {
      seen[event.id] = (seen[event.id] ?? 0) + 1;
    };
    const service = `replicated${serviceCounter++}`;
    const byReplica = [0, 0];
    await consume(
      "r-",
      async (e) => {
        byReplica[0]++;
        await handle(e);
      },
      service,
    );
    await consume(
      "r-",
      async (e) => {
        byReplica[1]++;
        await handle(e);
      },
      service,
    );
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const e = envelope("ticket.created", ticket(`r-${i}`));
      ids.push(e.id);
      await publishRaw(bus, "ticket.created", e);
    }
    await eventually(() => ids.every((id) => seen[id] === 1));
    expect(Object.values(seen).every((n) => n === 1)).toBe(true);
    expect(byReplica[0] + byReplica[1]).toBe(40);
  });

  test("When a dead letter is replayed after the cause is fixed, then it is handled and leaves the dead-letter stream", async () => {
    let broken = true;
    const { service } = await consume("replay-", async (event, uow) => {
      if (broken) throw new Error("bug");
      await sql`insert into effects values (${event.id}, 'replay')`.execute(uow.db);
    });
    const e = envelope("ticket.created", ticket("replay-1"));
    await publishRaw(bus, "ticket.created", e);
    await eventually(async () => (await listDeadLetters(bus, service)).length === 1);
    broken = false;
    expect(await replayDeadLetters(bus, service)).toBe(1);
    await eventually(async () => (await effects("replay")).length === 1);
    expect(await listDeadLetters(bus, service)).toHaveLength(0);
  });

  test("When versions arrive out of order, then each applies in order: early ones wait, old ones are dropped", async () => {
    await sql`create table applied_versions (seq serial, version int)`.execute(database.db);
    await consume("v-", async (event, uow) => {
      uow.applyNextVersion("ticket", event.data.id, event.data.version);
      // the check travels with this statement: a version that is not the next one never gets here
      await sql`insert into applied_versions (version) values (${event.data.version})`.execute(uow.db);
    });
    const applied = async () =>
      (await sql<{ version: number }>`select version from applied_versions order by seq`.execute(database.db)).rows.map((r) => r.version);
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("v-1", 2)));
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("v-1", 1)));
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("v-1", 0)));
    await eventually(async () => (await applied()).length === 3, 15_000);
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("v-1", 1)));
    await new Promise((r) => setTimeout(r, 300));
    expect(await applied()).toEqual([0, 1, 2]);
  });

  test("When a handler logs, then its lines are written once its transaction commits, and never for a handling that rolled back", async () => {
    const { lines, sink } = logLines();
    let calls = 0;
    const c = new EventConsumer(
      ticketListener(async (event, uow) => {
        if (!event.data.id.startsWith("log-")) return;
        calls++;
        await sql`insert into effects values (${event.id}, 'log')`.execute(uow.db);
        uow.log.info({ attempt: calls }, "effect written");
        if (calls === 1) throw new Error("undone after logging");
      }),
      {
        bus,
        work: workOn(database),
        log: pino({ level: "info" }, sink),
        service: `svc${serviceCounter++}`,
        maxDeliver: 3,
        retryBaseMs: 50,
      },
    );
    await c.start();
    consumers.push(c);
    const e = envelope("ticket.created", ticket("log-1"));
    await publishRaw(bus, "ticket.created", e);
    await eventually(async () => (await effects("log")).length === 1 && lines.some((l) => l.msg === "effect written"));
    const written = lines.filter((l) => l.msg === "effect written");
    expect(written).toEqual([expect.objectContaining({ attempt: 2, eventId: e.id, subject: "ticket.created" })]);
    // the failed attempt is told by the consumer's own line
    expect(lines).toContainEqual(expect.objectContaining({ msg: "handler failed; will retry", eventId: e.id, deliveries: 1 }));
  });

  test("When a handler asks to retry later, then it is redelivered after the delay and not dead-lettered", async () => {
    let attempts = 0;
    const { service } = await consume("wait-", async () => {
      if (attempts++ < 4) throw new RetryLater("waiting for another event", 50);
    });
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("wait-1")));
    await eventually(() => attempts === 5);
    expect(await listDeadLetters(bus, service)).toHaveLength(0);
  });

  test("When an event must wait for another, then its first waits are short and grow up to the handler's delay", async () => {
    const deliveredAt: number[] = [];
    await consume("soon-", async () => {
      deliveredAt.push(Date.now());
      // what it waits for would come within milliseconds; the handler allows up to 5 s between tries
      if (deliveredAt.length < 3) throw new RetryLater("its reservation is on its way", 5_000);
    });
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("soon-1")));
    await eventually(() => deliveredAt.length === 3);
    // 100 ms, then 200 ms: well before the 5 s the handler names as its longest wait
    expect(deliveredAt[2] - deliveredAt[0]).toBeLessThan(2_500);
    expect(deliveredAt[1] - deliveredAt[0]).toBeGreaterThanOrEqual(90);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryLaterWait(5_000, n))).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000]);
  });
  // last: every durable created after it would dead-letter its malformed messages too
  test("When one ticket's event is slow to handle, then other tickets' events are handled meanwhile, and the same ticket's next event waits its turn", async () => {
    const order: string[] = [];
    await consume("lane-", async (event) => {
      const { id, title } = event.data;
      if (title === "slow") await new Promise((r) => setTimeout(r, 800));
      order.push(`${id}:${title}`);
    });
    await publishRaw(bus, "ticket.created", envelope("ticket.created", { ...ticket("lane-a"), title: "slow" }));
    await publishRaw(bus, "ticket.created", envelope("ticket.created", { ...ticket("lane-a"), title: "next" }));
    await publishRaw(bus, "ticket.created", envelope("ticket.created", { ...ticket("lane-b"), title: "other" }));
    await eventually(async () => order.length === 3);
    expect(order).toEqual(["lane-b:other", "lane-a:slow", "lane-a:next"]);
  });

  test("When a handler runs past its time limit, then its transaction rolls back and the event is retried", async () => {
    let calls = 0;
    const c = new EventConsumer(
      ticketListener(async (event, uow) => {
        if (!event.data.id.startsWith("late-")) return;
        calls++;
        await sql`insert into effects values (${event.id}, 'late')`.execute(uow.db);
        if (calls === 1) await new Promise((r) => setTimeout(r, 1_000));
      }),
      {
        bus,
        work: workOn(database),
        log: silentLogger(),
        service: `svc${serviceCounter++}`,
        maxDeliver: 3,
        retryBaseMs: 50,
        handlerTimeoutMs: 300,
      },
    );
    await c.start();
    consumers.push(c);
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("late-1")));
    await eventually(async () => calls === 2 && (await effects("late")).length === 1);
    await new Promise((r) => setTimeout(r, 1_000)); // the first attempt's insert never commits
    expect(await effects("late")).toHaveLength(1);
  });

  test("When a handler's statement runs past the time limit, then the server cancels it, nothing after it is sent, and the event is retried", async () => {
    let calls = 0;
    let sentAfterTheLimit = false;
    const c = new EventConsumer(
      ticketListener(async (event, uow) => {
        if (!event.data.id.startsWith("stuck-")) return;
        calls++;
        if (calls === 1) {
          await sql`select pg_sleep(30)`.execute(uow.db).catch(() => undefined);
          sentAfterTheLimit = true;
        }
        await sql`insert into effects values (${event.id}, 'stuck')`.execute(uow.db);
      }),
      {
        bus,
        work: workOn(database),
        log: silentLogger(),
        service: `svc${serviceCounter++}`,
        maxDeliver: 3,
        retryBaseMs: 50,
        handlerTimeoutMs: 300,
      },
    );
    await c.start();
    consumers.push(c);
    const started = Date.now();
    await publishRaw(bus, "ticket.created", envelope("ticket.created", ticket("stuck-1")));
    await eventually(async () => (await effects("stuck")).length === 1);
    // far sooner than the 30 s statement: it was cancelled, not waited for
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(calls).toBe(2);
    expect(sentAfterTheLimit).toBe(true); // the handler went on, but its insert was refused, not sent
    const sleeping = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(30)%'`.execute(database.db);
    expect(sleeping.rows[0].n).toBe(0);
  });

  test("When a payload is malformed, then it is dead-lettered at once and the messages behind it are handled", async () => {
    const { service } = await consume("good-", async (event, uow) => {
      await sql`insert into effects values (${event.id}, 'behind')`.execute(uow.db);
    });
    await publishRaw(bus, "ticket.created", "not json at all");
    await publishRaw(bus, "ticket.created", envelope("ticket.created", { id: "x", price: "free" }));
    const good = envelope("ticket.created", ticket("good-1"));
    await publishRaw(bus, "ticket.created", good);
    await eventually(async () => (await effects("behind")).some((r) => r.event_id === good.id));
    const letters = await eventually(async () => {
      const l = await listDeadLetters(bus, service);
      return l.length >= 2 ? l : undefined;
    });
    expect(letters.map((l) => l.deliveries)).toEqual([1, 1]);
    // two different entities: handled side by side, so their dead letters come in either order
    expect(letters.map((l) => l.error).sort()).toEqual([
      expect.stringMatching(/^bad ticket\.created payload: .*price/),
      expect.stringMatching(/^not JSON/),
    ]);
  });
});
