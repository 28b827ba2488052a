import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { Bus, deadLetterHeaders } from "@ticketforge/common";
import { silentLogger } from "@ticketforge/common/testing";

const root = path.join(__dirname, "..", "..");
let nats: NatsServer;
let bus: Bus;

beforeAll(async () => {
  nats = await startNatsServer();
  bus = await Bus.connect({ url: nats.url, name: "dead-letters-test", log: silentLogger() });
});
afterAll(async () => {
  await bus?.drain();
  await nats?.destroy();
});

/** `npm run dead-letters -- <args>` against this test's server: what the operator's terminal receives. */
async function deadLetters(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    path.join(root, "node_modules", ".bin", "tsx"),
    [path.join(root, "scripts", "dead-letters.ts"), ...args],
    {
      cwd: root,
      env: { ...process.env, NATS_URL: nats.url },
    },
  );
  return stdout;
}

describe("npm run dead-letters", () => {
  test("When a letter's body and error hold terminal escape sequences, then list shows them escaped and none reaches the terminal", async () => {
    // clears the screen, sets the window title, and a right-to-left override that reorders the line
    const body = '{"id":"x","note":"\u001b[2J\u001b]0;all fine\u0007\u009b31m\u202eevil"}';
    await bus.publish("deadletter.tickets.ticket.created", new TextEncoder().encode(body), "escape-1", {
      [deadLetterHeaders.error]: "boom \u001b[8mhidden",
      [deadLetterHeaders.seq]: "1",
    });

    const out = await deadLetters("list");

    expect(out).toContain("#1 tickets ticket.created");
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain("\\u001b[2J\\u001b]0;all fine\\u0007\\u009b31m\\u202eevil");
    expect(out).toContain("boom \\u001b[8mhidden");
  }, 30_000);

  test("When a letter points to no stored event, then replay leaves it and says why", async () => {
    const out = await deadLetters("replay");

    expect(out).toMatch(/not replayed: #1 tickets ticket.created: tickets has no consumer of ticket.created/);
    expect(out).toContain("replayed 0 dead letter(s)");
  }, 30_000);
});
