import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { connect, DiscardPolicy, headers as natsHeaders, StringCodec, AckPolicy, type NatsConnection } from "nats";
import { eventually, startNatsServer, type NatsServer } from "@ticketforge/nats";
import {
  Bus,
  deadLetterHeaders,
  listDeadLetters,
  natsAdminUser,
  natsAuthorizationBlock,
  natsPasswordVariable,
  newNatsPassword,
  provisionJetStream,
  inboxPrefixOf,
  replayDeadLetters,
  revokedSessionsBucket,
  SessionRevocations,
  streamOf,
} from "@ticketforge/common";
import type { Subject } from "@ticketforge/common";
import { silentLogger } from "@ticketforge/common/testing";
import { busUsers, signUp, startServices, stopServices, type Services } from "./support/in-process";

const shipped = path.join(__dirname, "..", "infra", "k8s", "base", "nats.conf");
const users = [natsAdminUser, ...busUsers.map((u) => u.service)];
const passwords = Object.fromEntries(users.map((u) => [u, newNatsPassword()]));

let dir: string;
let nats: NatsServer;
let services: Services | undefined;

/** The shipped nats.conf, on this machine: the pod's paths and the monitoring port moved out of the way. */
function localCopyOfShippedConf(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-nats-auth-"));
  const text = fs
    .readFileSync(shipped, "utf8")
    .replace(/^http: .*$/m, "")
    .replaceAll("/var/run/nats", dir)
    .replaceAll("/data", path.join(dir, "data"));
  const file = path.join(dir, "nats.conf");
  fs.writeFileSync(file, text);
  return file;
}

/** Provisions JetStream as the admin, for every service's user: what npm run provision-nats does. */
const provision = () =>
  provisionJetStream({ url: nats.url, user: natsAdminUser, password: passwords[natsAdminUser], services: busUsers, log: silentLogger() });

beforeAll(async () => {
  nats = await startNatsServer({
    configFile: localCopyOfShippedConf(),
    env: { POD_NAME: "nats-0", ...Object.fromEntries(users.map((u) => [natsPasswordVariable(u), passwords[u]])) },
  });
  await provision();
}, 60_000);
afterAll(async () => {
  await stopServices(services);
  await nats?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A connection as `user`, with its own inbox prefix as the service's Bus has (the only inboxes it may read). */
const as = (user: string) =>
  connect({
    servers: nats.url,
    user,
    pass: passwords[user],
    reconnect: false,
    ...(user === natsAdminUser ? {} : { inboxPrefix: inboxPrefixOf(user) }),
  });

/** Messages of a stream now, read as the admin. */
async function streamCount(stream: string): Promise<number> {
  const admin = await as(natsAdminUser);
  try {
    return (await (await admin.jetstreamManager()).streams.info(stream)).state.messages;
  } finally {
    await admin.close();
  }
}

/** Publishes and waits for the server's verdict: a permissions violation arrives as an async error. */
async function publishRefused(nc: NatsConnection, subject: string, body: string): Promise<string> {
  const errors: string[] = [];
  void (async () => {
    // nats.js reports a permissions violation as the error status PERMISSIONS_VIOLATION
    for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.data));
  })();
  nc.publish(subject, StringCodec().encode(body));
  await nc.flush();
  await eventually(() => errors.length > 0, 5_000);
  return errors.join(" ");
}

const forgedPayment = () =>
  JSON.stringify({
    id: randomUUID(),
    type: "payment.completed",
    occurredAt: new Date().toISOString(),
    data: { id: randomUUID(), orderId: randomUUID(), amount: 1, providerRef: "ch_forged" },
  });

describe("NATS with the shipped nats.conf", () => {
  test("When the shipped authorization block is compared with what the code derives, then they are the same", () => {
    const block = natsAuthorizationBlock(busUsers, (u) => `$${natsPasswordVariable(u)}`);
    for (const conf of [shipped, path.join(__dirname, "..", "infra", "k8s", "overlays", "prod", "nats.conf")]) {
      expect(fs.readFileSync(conf, "utf8")).toContain(block);
    }
  });

  test("When someone connects without a user, then the server refuses the connection", async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ servers: nats.url, user: "tickets", pass: "a guess", reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
  });

  test("When the tickets user publishes payment.completed, then the server refuses it and the PAYMENTS stream does not grow", async () => {
    const before = await streamCount("PAYMENTS");
    const tickets = await as("tickets");
    try {
      expect(await publishRefused(tickets, "payment.completed", forgedPayment())).toMatch(/PERMISSIONS_VIOLATION/);
      await expect(
        tickets.jetstream().publish("payment.completed", StringCodec().encode(forgedPayment()), { timeout: 1_000 }),
      ).rejects.toThrow();
    } finally {
      await tickets.close().catch(() => undefined);
    }
    expect(await streamCount("PAYMENTS")).toBe(before);
  });

  test.each<[Subject, string]>([
    ["expiration.complete", "orders"],
    ["ticket.updated", "payments"],
    ["order.cancelled", "expiration"],
    ["payment.completed", "auth"],
  ])("When %s is published by the %s user, then the server refuses it", async (subject, user) => {
    const nc = await as(user);
    try {
      const before = await streamCount(streamOf(subject));
      expect(await publishRefused(nc, subject, "{}")).toMatch(/PERMISSIONS_VIOLATION/);
      expect(await streamCount(streamOf(subject))).toBe(before);
    } finally {
      await nc.close().catch(() => undefined);
    }
  });

  test("When the tickets user tries to re-route messages (a push consumer onto payment.completed, a stream update, a stream of its own), then the JetStream API refuses each", async () => {
    const tickets = await as("tickets");
    try {
      const jsm = await tickets.jetstreamManager();
      await expect(
        jsm.consumers.add("TICKETS", { durable_name: "evil", deliver_subject: "payment.completed", ack_policy: AckPolicy.None }),
      ).rejects.toThrow();
      await expect(jsm.streams.update("PAYMENTS", { subjects: ["payment.>"], max_msgs: 1 })).rejects.toThrow();
      await expect(
        jsm.streams.add({ name: "EVIL", subjects: ["evil.>"], republish: { src: ">", dest: "payment.completed" } }),
      ).rejects.toThrow();
      await expect(jsm.streams.delete("PAYMENTS")).rejects.toThrow();
    } finally {
      await tickets.close().catch(() => undefined);
    }
    expect(await streamCount("PAYMENTS")).toBeGreaterThanOrEqual(0);
  });

  test("When the tickets user subscribes to every inbox or to another service's, then the server refuses each", async () => {
    const tickets = await as("tickets");
    /** How a subscription ends: the server's refusal, or "still open" after 3 s. */
    const fate = async (subject: string) => {
      const sub = tickets.subscribe(subject);
      const ended = (async () => {
        try {
          for await (const _ of sub) return "a message arrived";
          return "closed";
        } catch (err) {
          return String(err);
        }
      })();
      return Promise.race([ended, new Promise<string>((resolve) => setTimeout(() => resolve("still open"), 3_000))]);
    };
    try {
      for (const subject of ["_INBOX.>", "_INBOX_orders.>", ">"]) {
        expect([subject, await fate(subject)]).toEqual([subject, expect.stringMatching(/Permissions Violation for Subscription/i)]);
      }
      expect(await fate(`${inboxPrefixOf("tickets")}.mine`)).toBe("still open");
    } finally {
      await tickets.close().catch(() => undefined);
    }
  });

  test("When the tickets user deletes a watcher of the revoked-sessions bucket, then the server refuses it and the watcher stays", async () => {
    const auth = await Bus.connect({ url: nats.url, name: "auth", log: silentLogger(), user: "auth", password: passwords.auth });
    const sessions = await SessionRevocations.open(auth, silentLogger());
    const admin = await as(natsAdminUser);
    const tickets = await as("tickets");
    try {
      const adminJsm = await admin.jetstreamManager();
      const watchers = await adminJsm.consumers.list(`KV_${revokedSessionsBucket}`).next();
      expect(watchers.length).toBeGreaterThan(0);
      const jsm = await tickets.jetstreamManager({ timeout: 1_000 });
      await expect(jsm.consumers.delete(`KV_${revokedSessionsBucket}`, watchers[0].name)).rejects.toThrow();
      expect((await adminJsm.consumers.list(`KV_${revokedSessionsBucket}`).next()).map((c) => c.name)).toContain(watchers[0].name);
      expect(sessions.healthy).toBe(true);
    } finally {
      await sessions.close();
      await auth.drain();
      await admin.close();
      await tickets.close().catch(() => undefined);
    }
  });

  test("When the streams are provisioned, then each has its own quota and age, refuses rather than drops when full, and together they fit the shipped store", async () => {
    const admin = await as(natsAdminUser);
    try {
      const jsm = await admin.jetstreamManager();
      let total = 0;
      for (const name of ["TICKETS", "ORDERS", "PAYMENTS", "EXPIRATION", "DEADLETTER", `KV_${revokedSessionsBucket}`]) {
        const { config } = await jsm.streams.info(name);
        expect([name, config.max_bytes > 0, config.discard]).toEqual([name, true, DiscardPolicy.New]);
        expect([name, config.max_age > 0]).toEqual([name, true]);
        total += config.max_bytes;
      }
      // a letter's original outlives the letter, so that replay finds it
      expect((await jsm.streams.info("PAYMENTS")).config.max_age).toBeGreaterThan((await jsm.streams.info("DEADLETTER")).config.max_age);
      const store = /max_file_store: (\d+)Mi/.exec(fs.readFileSync(shipped, "utf8"))!;
      expect(total).toBeLessThan(Number(store[1]) * 1024 * 1024);
    } finally {
      await admin.close();
    }
  });

  test("When provisioning runs again after a service stopped listening to a subject, then that durable consumer is removed and every other consumer stays", async () => {
    const admin = await as(natsAdminUser);
    try {
      const jsm = await admin.jetstreamManager();
      // what an earlier release left: passes listened to order.created; and a tool's own consumer
      const left = { ack_policy: AckPolicy.Explicit, filter_subject: "order.created" };
      await jsm.consumers.add("ORDERS", { ...left, durable_name: "passes-order-created" });
      await jsm.consumers.add("ORDERS", { ...left, durable_name: "audit-order-created" });
      await provision();
      const names: string[] = [];
      for await (const c of jsm.consumers.list("ORDERS")) names.push(c.name);
      expect(names).not.toContain("passes-order-created");
      expect(names).toEqual(expect.arrayContaining(["audit-order-created", "passes-order-completed", "tickets-order-created"]));
      await jsm.consumers.delete("ORDERS", "audit-order-created");
    } finally {
      await admin.close();
    }
  });

  test("When every service runs with its own user, then a ticket is sold end to end and sign-out reaches every service", async () => {
    services = await startServices(nats.url, {}, (name) => ({ NATS_USER: name, NATS_PASSWORD: passwords[name] }));
    const seller = await signUp(services, "seller");
    const buyer = await signUp(services, "buyer");
    const ticket = await request(services.tickets.app)
      .post("/api/tickets")
      .set("Cookie", seller.cookie)
      .send({ title: "Secured gig", price: 12 });
    expect(ticket.status).toBe(201);
    let orderId = "";
    await eventually(async () => {
      const res = await request(services!.orders.app).post("/api/orders").set("Cookie", buyer.cookie).send({ ticketId: ticket.body.id });
      orderId = res.body.id;
      return res.status === 201;
    }, 15_000);
    await eventually(
      async () =>
        (await request(services!.payments.app).post("/api/payments").set("Cookie", buyer.cookie).send({ orderId, token: "tok_visa" }))
          .status === 201,
      15_000,
    );
    await eventually(
      async () =>
        (await request(services!.orders.app).get(`/api/orders/${orderId}`).set("Cookie", buyer.cookie)).body.status === "complete",
      15_000,
    );
    await eventually(
      async () =>
        (await request(services!.tickets.app).get(`/api/tickets/${ticket.body.id}`).set("Cookie", seller.cookie)).body.status === "sold",
      15_000,
    );
    // expiration heard of the order too (its timer was set and then cleared by order.completed)
    expect((await request(services.expiration.app).get("/readyz")).status).toBe(200);

    await request(services.auth.app)
      .post("/api/users/signout")
      .set("Cookie", buyer.cookie)
      .set("Sec-Fetch-Site", "same-origin")
      .expect(200);
    await eventually(
      async () => (await request(services!.orders.app).get("/api/orders").set("Cookie", buyer.cookie)).status === 401,
      5_000,
    );
    expect(await streamCount("DEADLETTER")).toBe(0);
  }, 90_000);

  test("When the tickets user forges a dead letter claiming to be orders' payment.completed for a live order, then a replay publishes nothing and the order stays unpaid", async () => {
    services ??= await startServices(nats.url, {}, (name) => ({ NATS_USER: name, NATS_PASSWORD: passwords[name] }));
    const seller = await signUp(services, "seller");
    const buyer = await signUp(services, "buyer");
    const ticket = await request(services.tickets.app)
      .post("/api/tickets")
      .set("Cookie", seller.cookie)
      .send({ title: "Forged letter gig", price: 40 });
    let orderId = "";
    await eventually(async () => {
      const res = await request(services!.orders.app).post("/api/orders").set("Cookie", buyer.cookie).send({ ticketId: ticket.body.id });
      orderId = res.body.id;
      return res.status === 201;
    }, 15_000);
    const payment = JSON.stringify({
      id: randomUUID(),
      type: "payment.completed",
      occurredAt: new Date().toISOString(),
      data: { id: randomUUID(), orderId, amount: 4000, providerRef: "ch_forged" },
    });
    const payments = await streamCount("PAYMENTS");
    const orders = await streamCount("ORDERS");
    // every header says "orders parked this payment.completed"
    const claims = () => {
      const h = natsHeaders();
      h.set(deadLetterHeaders.subject, "payment.completed");
      h.set(deadLetterHeaders.service, "orders");
      h.set(deadLetterHeaders.consumer, "orders-payment-completed");
      h.set(deadLetterHeaders.stream, "PAYMENTS");
      h.set(deadLetterHeaders.seq, String(orders + 1_000));
      return h;
    };
    const tickets = await as("tickets");
    try {
      const js = tickets.jetstream();
      const letter = (subject: string) => js.publish(subject, StringCodec().encode(payment), { headers: claims(), timeout: 1_000 });
      // as orders' letter, or as a letter about a subject tickets does not consume, the server refuses it
      await expect(letter("deadletter.orders.payment.completed")).rejects.toThrow();
      await expect(letter("deadletter.tickets.payment.completed")).rejects.toThrow();
      // as a letter of its own about order.created, it is stored: the tickets service parks those
      await letter("deadletter.tickets.order.created");
    } finally {
      await tickets.close().catch(() => undefined);
    }

    const operator = await Bus.connect({
      url: nats.url,
      name: "operator",
      log: silentLogger(),
      user: natsAdminUser,
      password: passwords[natsAdminUser],
    });
    try {
      const letters = (await listDeadLetters(operator)).filter((l) => l.body.includes(orderId));
      expect(letters.map((l) => [l.service, l.subject])).toEqual([["tickets", "order.created"]]);
      expect(await listDeadLetters(operator, "orders")).toHaveLength(0);
      const refused: string[] = [];
      expect(await replayDeadLetters(operator, undefined, { onRefused: (_, reason) => refused.push(reason) })).toBe(0);
      expect(refused).toEqual([expect.stringMatching(new RegExp(`^message ${orders + 1_000} of ORDERS is not there`))]);
      // it stays where the operator sees it
      expect((await listDeadLetters(operator)).filter((l) => l.body.includes(orderId))).toHaveLength(1);
    } finally {
      await operator.drain();
    }
    expect(await streamCount("ORDERS")).toBe(orders);
    expect(await streamCount("PAYMENTS")).toBe(payments);
    // had it been published, orders would complete the order at once
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await request(services.orders.app).get(`/api/orders/${orderId}`).set("Cookie", buyer.cookie)).body.status).toBe("created");
  }, 90_000);
});
