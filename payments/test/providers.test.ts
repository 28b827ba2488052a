import {
  createProvider,
  DatabaseLedger,
  InvalidPaymentTokenError,
  PaymentDeclinedError,
  SandboxProvider,
  StripeProvider,
} from "../src/providers";
import { startFakeStripe } from "./fake-stripe";

/** What a declined card raises, with the provider's own words for the buyer. */
const declined = expect.objectContaining({ name: "PaymentDeclinedError", reason: "Your card was declined." });

const aCharge = (overrides = {}) => ({
  amountCents: 2010,
  currency: "usd",
  token: "tok_visa",
  idempotencyKey: "order-1",
  description: "TicketForge order order-1",
  ...overrides,
});

describe("choosing the provider", () => {
  test("When no STRIPE_KEY is set, then the sandbox is used; when one is, then Stripe", () => {
    expect(createProvider({})).toBeInstanceOf(SandboxProvider);
    expect(createProvider({ STRIPE_KEY: "sk_test_123" })).toBeInstanceOf(StripeProvider);
  });

  test("When NODE_ENV=production has no STRIPE_KEY, then no provider is made unless the sandbox is asked for by name", () => {
    expect(() => createProvider({ NODE_ENV: "production" })).toThrow(/no payment provider in production/);
    expect(createProvider({ NODE_ENV: "production", PAYMENTS_PROVIDER: "sandbox" })).toBeInstanceOf(SandboxProvider);
    expect(createProvider({ NODE_ENV: "production", STRIPE_KEY: "sk_live_123" })).toBeInstanceOf(StripeProvider);
  });
});

describe("sandbox provider", () => {
  test("When tok_visa is charged, then a charge is made, and the same idempotency key gives the same charge", async () => {
    const sandbox = new SandboxProvider();
    const first = await sandbox.charge(aCharge());
    expect(first.id).toMatch(/^ch_sandbox_/);
    expect(await sandbox.charge(aCharge())).toEqual(first);
    expect((await sandbox.charge(aCharge({ idempotencyKey: "order-2" }))).id).not.toBe(first.id);
    expect((await sandbox.charges()).find((c) => c.id === first.id)).toMatchObject({ amountCents: 2010, currency: "usd" });
    expect(await sandbox.charges()).toHaveLength(2);
  });

  test("When tok_chargeDeclined is charged, then it is declined with Stripe's reason, and that key stays declined", async () => {
    const sandbox = new SandboxProvider();
    await expect(sandbox.charge(aCharge({ token: "tok_chargeDeclined" }))).rejects.toThrow(declined);
    await expect(sandbox.charge(aCharge())).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect(await sandbox.charges()).toHaveLength(0);
  });

  test("When the token is unknown, then it is invalid and the key can still be used with a good card", async () => {
    const sandbox = new SandboxProvider();
    await expect(sandbox.charge(aCharge({ token: "tok_nope" }))).rejects.toBeInstanceOf(InvalidPaymentTokenError);
    expect((await sandbox.charge(aCharge())).id).toMatch(/^ch_sandbox_/);
  });

  test("When a charge is refunded, then the same key gives the same refund, and no charge is refunded twice", async () => {
    const sandbox = new SandboxProvider();
    const charge = await sandbox.charge(aCharge());
    const refund = await sandbox.refund({ chargeId: charge.id, idempotencyKey: "refund-p1" });
    expect(refund.id).toMatch(/^re_sandbox_/);
    expect(await sandbox.refund({ chargeId: charge.id, idempotencyKey: "refund-p1" })).toEqual(refund);
    await expect(sandbox.refund({ chargeId: charge.id, idempotencyKey: "refund-p2" })).rejects.toThrow(/already been refunded/);
    await expect(sandbox.refund({ chargeId: "ch_unknown", idempotencyKey: "refund-p3" })).rejects.toThrow(/No such charge/);
  });
});

describe("sandbox provider across restarts", () => {
  test("When the sandbox keeps its books in a database, then a new instance on it refunds a charge the old one made, and knows each key's outcome", async () => {
    const { openTestDatabase } = await import("@ticketforge/common/testing");
    const { migrate, commonMigrationsDir } = await import("@ticketforge/common");
    const path = await import("node:path");
    const database = await openTestDatabase();
    try {
      await migrate(database.db, [
        { scope: "common", dir: commonMigrationsDir },
        { scope: "payments", dir: path.join(__dirname, "..", "src", "db", "migrations") },
      ]);
      const before = new SandboxProvider(new DatabaseLedger(database.url));
      const charge = await before.charge(aCharge({ idempotencyKey: "order-r1" }));
      await expect(before.charge(aCharge({ token: "tok_chargeDeclined", idempotencyKey: "order-r2" }))).rejects.toBeInstanceOf(
        PaymentDeclinedError,
      );

      await before.close();
      const after = new SandboxProvider(new DatabaseLedger(database.url)); // the process restarted
      expect(await after.charge(aCharge({ idempotencyKey: "order-r1" }))).toEqual(charge);
      expect(await after.findCharge("order-r1")).toEqual({ found: "charge", id: charge.id });
      expect(await after.findCharge("order-r2")).toEqual({ found: "declined" });
      expect(await after.findCharge("order-r3")).toEqual({ found: "nothing" });
      const refund = await after.refund({ chargeId: charge.id, idempotencyKey: "refund-r1" });
      expect(refund.id).toMatch(/^re_sandbox_/);
      await expect(after.refund({ chargeId: charge.id, idempotencyKey: "refund-r2" })).rejects.toThrow(/already been refunded/);
      await after.close();
    } finally {
      await database.close();
    }
  });
});

describe("stripe provider, against a local server speaking Stripe's API", () => {
  let stripe: Awaited<ReturnType<typeof startFakeStripe>>;
  let provider: StripeProvider;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    provider = createProvider({ STRIPE_KEY: "sk_test_123", STRIPE_API_URL: stripe.url }) as StripeProvider;
  });
  afterAll(() => stripe?.close());

  test("When a card is charged, then the client POSTs the charge form with our key and the idempotency key, and returns the charge id", async () => {
    const charge = await provider.charge(aCharge());
    expect(charge.id).toMatch(/^ch_fake_/);
    const sent = stripe.requests.at(-1)!;
    expect(sent).toMatchObject({ method: "POST", path: "/v1/charges" });
    expect(sent.headers.authorization).toBe("Bearer sk_test_123");
    expect(sent.headers["idempotency-key"]).toBe("order-1");
    expect(sent.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(sent.form).toEqual({
      amount: "2010",
      currency: "usd",
      source: "tok_visa",
      description: "TicketForge order order-1",
      // what lets the reconciler find the charge by its key after a crash
      "metadata[idempotency_key]": "order-1",
    });
  });

  test("When asked for its minimum charge, then it is Stripe's: 0.50 in usd and eur, 0.30 in gbp", () => {
    expect(provider.minimumChargeCents("usd")).toBe(50);
    expect(provider.minimumChargeCents("eur")).toBe(50);
    expect(provider.minimumChargeCents("gbp")).toBe(30);
  });

  test("When Stripe declines the card (402 card_error), then PaymentDeclinedError carries Stripe's message", async () => {
    await expect(provider.charge(aCharge({ token: "tok_chargeDeclined" }))).rejects.toThrow(declined);
  });

  test("When Stripe does not know the token, then InvalidPaymentTokenError", async () => {
    await expect(provider.charge(aCharge({ token: "tok_bogus" }))).rejects.toBeInstanceOf(InvalidPaymentTokenError);
  });

  test("When a charge is refunded, then the client POSTs the refund with the refund's idempotency key and returns its id", async () => {
    const refund = await provider.refund({ chargeId: "ch_fake_1", idempotencyKey: "refund-payment-1" });
    expect(refund.id).toMatch(/^re_fake_/);
    const sent = stripe.requests.at(-1)!;
    expect(sent).toMatchObject({ method: "POST", path: "/v1/refunds", form: { charge: "ch_fake_1" } });
    expect(sent.headers["idempotency-key"]).toBe("refund-payment-1");
    expect(sent.headers.authorization).toBe("Bearer sk_test_123");
  });

  test("When Search does not see a charge yet (its index lags), then the charge is still found, in the list of charges created around the request", async () => {
    const requestedAt = new Date();
    const charge = await provider.charge(aCharge({ idempotencyKey: "order-lagging" }));
    stripe.state.searchLags = true;
    try {
      expect(await provider.findCharge("order-lagging", requestedAt)).toEqual({ found: "charge", id: charge.id });
      const listed = stripe.requests.at(-1)!;
      expect(listed).toMatchObject({ method: "GET" });
      const query = new URL(listed.path, "http://stripe").searchParams;
      expect(Number(query.get("created[gte]"))).toBeLessThanOrEqual(requestedAt.getTime() / 1000);
      expect(Number(query.get("created[lte]"))).toBeGreaterThanOrEqual(requestedAt.getTime() / 1000);
      // a key that charged nothing is "nothing" only after the list said so too
      expect(await provider.findCharge("order-never-charged", requestedAt)).toEqual({ found: "nothing" });
      expect(stripe.requests.at(-1)!.path).toMatch(/^\/v1\/charges\?/);
    } finally {
      stripe.state.searchLags = false;
    }
  });
});
