import request from "supertest";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { sql } from "@ticketforge/common";
import { aUser, publish, startTestService, type TestService } from "@ticketforge/common/testing";
import { eventually, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { passes } from "../src/service";
import { codeOf, givenPass, givenUser } from "./helpers";

/** What a real SMTP server on a free port received: the mails the service sent, as raw messages. */
interface Received {
  to: string[];
  raw: string;
}

let nats: NatsServer;
let smtp: SMTPServer;
let service: TestService;
const inbox: Received[] = [];

function catcher(received: Received[]): SMTPServer {
  return new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        // quoted-printable soft line breaks undone, so that the text reads as written
        const raw = Buffer.concat(chunks)
          .toString("utf8")
          .replace(/=\r?\n/g, "");
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
}

beforeAll(async () => {
  smtp = catcher(inbox);
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const { port } = smtp.server.address() as AddressInfo;
  nats = await startNatsServer();
  service = await startTestService(passes, nats.url, {
    config: { SMTP_URL: `smtp://127.0.0.1:${port}`, PASSES_APP_URL: "http://tickets.test", PASSES_MAIL_SWEEP_MS: 200 },
  });
});

afterAll(async () => {
  await service?.close();
  await nats?.destroy();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const mailTo = (email: string) => eventually(() => inbox.find((m) => m.to.includes(email)), 15_000);

describe("mails", () => {
  test("When a buyer's order completes, then a receipt reaches their mailbox, linking to My passes and holding no door code", async () => {
    const buyer = await givenUser(service);
    const { pass, order } = await givenPass(service, aUser(), buyer, "Cello recital");
    const mail = await mailTo(buyer.email);
    expect(mail!.raw).toMatch(/Subject: Your ticket for Cello recital/);
    expect(mail!.raw).toContain(order.id);
    expect(mail!.raw).toContain("http://tickets.test/passes");
    const code = await codeOf(service, pass.id, buyer);
    expect(mail!.raw).not.toContain(code.slice(0, 40));
  });

  test("When a pass is transferred, then the recipient gets a mail about it", async () => {
    const owner = await givenUser(service);
    const friend = await givenUser(service);
    const { pass } = await givenPass(service, aUser(), owner, "Derby");
    await eventually(
      async () =>
        (await request(service.app).post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: friend.email }))
          .status === 201,
    );
    const mail = await mailTo(friend.email);
    expect(mail!.raw).toMatch(/Subject: A ticket for Derby was given to you/);
  });

  test("When the buyer's address is not known yet, then the mail waits and is sent once user.registered brings it", async () => {
    const buyer = aUser();
    const email = `late-${buyer.id}@example.com`;
    // a buyer whose address passes learns only after the order completed: the mail waits for it
    const { order } = await givenPass(service, aUser(), buyer, "Late show");
    await new Promise((r) => setTimeout(r, 500));
    expect(inbox.some((m) => m.raw.includes(order.id))).toBe(false);
    await publish(service, "user.registered", { id: buyer.id, email });
    const mail = await mailTo(email);
    expect(mail!.raw).toContain(order.id);
  });

  test("When the mail server is down, then the mail waits in the database and leaves once it is back", async () => {
    // a port nobody listens on yet: the mail server of this second instance is down
    const probe = catcher([]);
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.server.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = await startTestService(passes, nats.url, {
      config: { SMTP_URL: `smtp://127.0.0.1:${port}`, PASSES_MAIL_SWEEP_MS: 200 },
      listen: false,
    });
    const late: Received[] = [];
    const back = catcher(late);
    try {
      const uow = down.ctx.work;
      await uow(async (w) => {
        await sql`insert into users (id, email) values ('u-down', 'down@example.com')`.execute(w.db);
        await sql`insert into mails (to_user_id, subject, body) values ('u-down', 'Waiting mail', 'hello')`.execute(w.db);
      });
      down.ctx.mailer.kick();
      await eventually(
        async () => (await sql<{ attempts: number }>`select attempts from mails`.execute(down.ctx.db)).rows[0]?.attempts === 1,
      );
      expect(late).toHaveLength(0);
      await new Promise<void>((resolve) => back.listen(port, "127.0.0.1", resolve));
      const mail = await eventually(() => late.find((m) => m.to.includes("down@example.com")), 15_000);
      expect(mail!.raw).toContain("Subject: Waiting mail");
    } finally {
      await down.close();
      await new Promise<void>((resolve) => back.close(() => resolve()));
    }
  });
});
