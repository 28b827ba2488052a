import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Bus, type Database } from "@ticketforge/common";
import { openTestDatabase, publishAs, signInCookie, silentLogger, testSessionKeys } from "@ticketforge/common/testing";
import { EventRecorder, eventually, freePort, startNatsServer, waitForPort, type NatsServer } from "@ticketforge/nats";
import { startFakeStripe } from "./fake-stripe";

/**
 * Payments as a real process, killed (SIGKILL) after Stripe took the money and before payments
 * recorded it; started again on the same database, it must find the charge and finish the sale.
 */
let nats: NatsServer;
let stripe: Awaited<ReturnType<typeof startFakeStripe>>;
/** The database both lives of the service share. */
let database: Database;
let bus: Bus;
let recorder: EventRecorder;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  stripe = await startFakeStripe();
  database = await openTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-payments-crash-"));
  bus = await Bus.connect({ url: nats.url, name: "crash-test", log: silentLogger() });
  recorder = await EventRecorder.start(nats.url);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await recorder?.close();
  await bus?.drain();
  await database?.close();
  await stripe?.close();
  await nats?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function startPayments(port: number) {
  const root = path.join(__dirname, "..", "..");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "payments", "src", "main.ts")], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      PORT: String(port),
      NATS_URL: nats.url,
      JWT_PUBLIC_KEY: testSessionKeys.publicKey,
      DATABASE_URL: database.url,
      STRIPE_KEY: "sk_test_crash",
      STRIPE_API_URL: stripe.url,
      PAYMENT_RECONCILE_SWEEP_MS: "200",
      PAYMENT_RECONCILE_AFTER_MS: "500",
    },
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4_000)));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`payments exited (${code}): ${stderr}`))));
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 30_000), exited]);
  return child;
}

const pay = (port: number, cookie: string, body: object) =>
  fetch(`http://127.0.0.1:${port}/api/payments`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify(body),
  });

/** A payments process, and an order it knows (an unknown token is then refused for the token, not the order). */
async function anOrderKnownToPayments() {
  const port = await freePort();
  const first = await startPayments(port);
  const buyer = signInCookie(testSessionKeys.privateKey);
  const orderId = randomUUID();
  await publishAs(bus, "order.created", {
    id: orderId,
    status: "created",
    userId: buyer.id,
    expiresAt: new Date(Date.now() + 900_000).toISOString(),
    version: 0,
    ticket: { id: randomUUID(), price: 2500 },
  });
  await eventually(async () => (await pay(port, buyer.cookie, { orderId, token: "tok_probe" })).status === 400, 15_000);
  return { port, first, buyer, orderId };
}

/** The buyer pays; Stripe charges the card, and payments is SIGKILLed before it hears back. */
async function killedRightAfterTheCharge(payments: ChildProcess, port: number, cookie: string, orderId: string) {
  stripe.state.holdCharges = true;
  void pay(port, cookie, { orderId, token: "tok_visa" }).catch(() => undefined);
  await eventually(() => stripe.charges.some((c) => c.key === orderId), 10_000);
  const gone = new Promise((resolve) => payments.once("exit", resolve));
  payments.kill("SIGKILL");
  await gone;
  stripe.state.holdCharges = false;
}

describe("payments killed between the charge and its recording", () => {
  test("When payments dies right after Stripe charged the card, then after a restart the charge is found and recorded, and the order completes with one charge", async () => {
    const { port, first, buyer, orderId } = await anOrderKnownToPayments();
    await killedRightAfterTheCharge(first, port, buyer.cookie, orderId);
    expect(recorder.of("payment.completed").filter((e) => e.data.orderId === orderId)).toEqual([]);

    await startPayments(port);
    const completed = await recorder.waitFor("payment.completed", (d) => d.orderId === orderId, 20_000);
    const charge = stripe.charges.find((c) => c.key === orderId)!;
    expect(completed?.data).toMatchObject({ orderId, amount: 2500, providerRef: charge.id });
    expect(stripe.charges.filter((c) => c.key.startsWith(orderId))).toHaveLength(1);
    const again = await pay(port, buyer.cookie, { orderId, token: "tok_visa" });
    expect(await again.json()).toEqual({ errors: [{ message: "Order has already been paid" }] });
  }, 120_000);

  test("When Stripe's Search does not see the charge yet, then the reconciler does not take that for no charge: the order completes, charged once", async () => {
    const { port, first, buyer, orderId } = await anOrderKnownToPayments();

    // Search's index lags for the whole test: it never sees this charge
    stripe.state.searchLags = true;
    try {
      await killedRightAfterTheCharge(first, port, buyer.cookie, orderId);

      await startPayments(port);
      const completed = await recorder.waitFor("payment.completed", (d) => d.orderId === orderId, 20_000);
      const charge = stripe.charges.find((c) => c.key === orderId)!;
      expect(completed?.data).toMatchObject({ orderId, amount: 2500, providerRef: charge.id });
      // the reconciler asked Search, which missed, then the list, which did not
      const asked = stripe.requests.filter((r) => r.method === "GET").map((r) => new URL(r.path, "http://stripe").pathname);
      expect(asked).toEqual(expect.arrayContaining(["/v1/charges/search", "/v1/charges"]));
      // and the buyer paying again is told so, without a second charge
      const again = await pay(port, buyer.cookie, { orderId, token: "tok_visa" });
      expect(await again.json()).toEqual({ errors: [{ message: "Order has already been paid" }] });
      expect(stripe.charges.filter((c) => c.key.startsWith(orderId))).toHaveLength(1);
    } finally {
      stripe.state.searchLags = false;
    }
  }, 120_000);
});
