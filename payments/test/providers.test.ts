import { openTestDatabase } from "@ticketforge/common/testing";
import { createProvider, DatabaseLedger, InvalidPaymentTokenError, PaymentDeclinedError, SandboxProvider, StripeProvider } from "../src/providers";
import { payments } from "../src/service";
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
});

describe("sandbox provider", () => {
  test("When tok_visa is charged, then a charge is made, and the same idempotency key gives the same charge", async () => {
    const sandbox = new SandboxProvider();
    const first = await sandbox.charge(aCharge());
    expect(first.id).toMatch(/^ch_sandbox_/);
    expect(await sandbox.charge(aCharge())).toEqual(first);
    expect((await sandbox.charge(aCharge({ idempotencyKey: "order-2" }))).id).not.toBe(first.id);
    expect(sandbox.charges.get(first.id)).toMatchObject({ amountCents: 2010, currency: "usd" });
    expect(sandbox.charges.size).toBe(2);
  });

  test("When tok_chargeDeclined is charged, then it is declined with Stripe's reason, and that key stays declined", async () => {
    const sandbox = new SandboxProvider();
    await expect(sandbox.charge(aCharge({ token: "tok_chargeDeclined" }))).rejects.toThrow(declined);
    await expect(sandbox.charge(aCharge())).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect(sandbox.charges.size).toBe(0);
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

describe("sandbox provider with several replicas (its ledger in the payments database)", () => {
  test("When one replica charges and another is asked again or refunds, then they answer as one provider", async () => {
    const database = await openTestDatabase(payments);
    try {
      const [a, b] = [new SandboxProvider(new DatabaseLedger(database.db)), new SandboxProvider(new DatabaseLedger(database.db))];
      // the same key on two replicas at once: one charge, both answer with it
      const [first, second] = await Promise.all([a.charge(aCharge()), b.charge(aCharge())]);
      expect(second).toEqual(first);
      await expect(a.charge(aCharge({ idempotencyKey: "order-2", token: "tok_chargeDeclined" }))).rejects.toThrow(declined);
      await expect(b.charge(aCharge({ idempotencyKey: "order-2" }))).rejects.toBeInstanceOf(PaymentDeclinedError);

      // the refund of a charge the other replica made, retried on both: one refund
      const refund = await b.refund({ chargeId: first.id, idempotencyKey: "refund-p1" });
      expect(await a.refund({ chargeId: first.id, idempotencyKey: "refund-p1" })).toEqual(refund);
      await expect(a.refund({ chargeId: first.id, idempotencyKey: "refund-p2" })).rejects.toThrow(/already been refunded/);
      await expect(b.refund({ chargeId: "ch_unknown", idempotencyKey: "refund-p3" })).rejects.toThrow(/No such charge/);
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
    expect(sent.form).toEqual({ amount: "2010", currency: "usd", source: "tok_visa", description: "TicketForge order order-1" });
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
});
