/**
 * Reservations that run out: a stack whose reservation window is a few seconds, so that the
 * expiration service's timers fire while the tests watch. Here time itself is under test, so
 * waiting for a moment (the expiry) is part of the scenario.
 */
import { eventually } from "@ticketforge/nats";
import type { Order } from "@ticketforge/common/api";
import { messages, onceKnown, untilPasses, type Reply, type User } from "./support/marketplace";
import { copiesById, observableState, publishEverythingAgain } from "./support/duplicates";
import { worldUnderTest } from "./support/world";

const windowSeconds = 4;

jest.setTimeout(120_000);

const world = worldUnderTest({ expirationWindowSeconds: windowSeconds });

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

describe("An unpaid order", () => {
  test("When a buyer does not pay in time, then the order is cancelled and someone else can buy the ticket", async () => {
    const { market, broker } = world;
    const seller = await market.signUp("seller");
    const slow = await market.signUp("slow");
    const next = await market.signUp("next");
    const ticket = await market.sell(seller, "Matinee", 12);

    const orderedAt = Date.now();
    const order: Order = (await onceKnown(() => market.placeOrder(slow, ticket.id))).body;
    const expiresAt = new Date(order.expiresAt).getTime();
    expect(expiresAt - orderedAt).toBeGreaterThan((windowSeconds - 1) * 1000);
    expect(expiresAt - orderedAt).toBeLessThan((windowSeconds + 2) * 1000);
    await untilPasses(async () => expect(await market.ticket(ticket.id)).toMatchObject({ status: "reserved", orderId: order.id }));

    // the window runs out: the order is cancelled and the ticket is free again
    await untilPasses(async () => expect((await market.orderOf(slow, order.id)).status).toBe("cancelled"), windowSeconds * 1000 + 20_000);
    await untilPasses(async () => expect(await market.ticket(ticket.id)).toMatchObject({ status: "available", orderId: null }));
    const expired = await broker.of("expiration.complete", (d) => d.orderId === order.id);
    expect(expired).toHaveLength(1);
    expect(new Date(expired[0].occurredAt).getTime()).toBeGreaterThanOrEqual(expiresAt);
    expect(await broker.of("order.cancelled", (d) => d.id === order.id)).toHaveLength(1);

    // too late to pay for it
    await untilPasses(async () => {
      const late = await market.pay(slow, order.id, "tok_visa");
      expect([late.status, messages(late)]).toEqual([400, ["Cannot pay for a cancelled order"]]);
    });

    // the next buyer gets it
    const second = await market.order(next, ticket.id);
    expect(second.status).toBe("created");
    await untilPasses(async () => expect(await market.ticket(ticket.id)).toMatchObject({ status: "reserved", orderId: second.id }));
    expect((await market.orderOf(slow, order.id)).status).toBe("cancelled");
  });
});

/** How one payment attempt made right at the expiry ended. */
type Outcome = "paid in time" | "refused as too late" | "charged, then refunded";

describe("A payment at the very moment the order expires", () => {
  test("When a buyer pays just as the reservation runs out, then they either get the ticket or get their money back", async () => {
    const { market } = world;
    const seller = await market.signUp("seller");
    const buyer = await market.signUp("buyer");
    // Payments sent from a little before to a little after each expiry, one order each: the
    // cancellation and the payment cross somewhere in this sweep (see `attempt`).
    const offsetsMs = [-40, -20, -10, 0, 5, 10, 15, 20, 25, 30, 40, 50, 70, 100];
    const outcomes: Outcome[] = [];
    for (let round = 0; round < 3 && !outcomes.includes("charged, then refunded"); round++) {
      // allSettled: a failing attempt must not leave the others running after the test ends
      const results = await Promise.allSettled(offsetsMs.map((offset, i) => attempt(seller, buyer, offset, i * 300)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      outcomes.push(...results.map((r) => (r as PromiseFulfilledResult<Outcome>).value));
    }
    // The compensation path itself was exercised, not only its two neighbours.
    expect(outcomes).toContain("charged, then refunded");
  });

  /**
   * Orders a ticket, pays for it `offsetMs` after the order's expiry, waits until every service
   * has settled, and checks that the end state is one of the three consistent ones:
   * - paid in time: payment accepted, order complete, ticket sold, nothing refunded;
   * - refused as too late: payments already knew of the cancellation, nothing was charged;
   * - charged, then refunded: the charge was taken while the cancellation was on its way, so
   *   payments refunded it (docs/design.md §4 rule 5): the order is cancelled and shows the refund.
   * In every case the ticket is sold exactly when the order is complete, and available otherwise.
   */
  async function attempt(seller: User, buyer: User, offsetMs: number, startDelayMs: number): Promise<Outcome> {
    const { market, broker } = world;
    await new Promise((r) => setTimeout(r, startDelayMs));
    const ticket = await market.sell(seller, `Race ${offsetMs}`, 30);
    const order: Order = (await onceKnown(() => market.placeOrder(buyer, ticket.id))).body;
    const created = await eventually(async () => (await broker.of("order.created", (d) => d.id === order.id))[0]);
    await eventually(() => broker.handled("payments-order-created", created));

    await sleepUntil(new Date(order.expiresAt).getTime() + offsetMs);
    const paid: Reply = await market.pay(buyer, order.id, "tok_visa");

    // the card was charged when payments accepted the payment, or refunded it at once itself
    const charged = paid.status === 201 || /refunded/.test(messages(paid).join());
    const final = await eventually(async () => {
      const o = await market.orderOf(buyer, order.id);
      if (o.status === "complete") return o;
      if (o.status !== "cancelled") return undefined;
      return !charged || o.refund ? o : undefined;
    }, 30_000);
    const ticketNow = await eventually(async () => {
      const t = await market.ticket(ticket.id);
      return t.status === (final.status === "complete" ? "sold" : "available") ? t : undefined;
    }, 20_000);
    const completed = await broker.of("payment.completed", (d) => d.orderId === order.id);
    const refunded = await broker.of("payment.refunded", (d) => d.orderId === order.id);
    const orderCompleted = await broker.of("order.completed", (d) => d.id === order.id);
    const orderCancelled = await broker.of("order.cancelled", (d) => d.id === order.id);

    if (final.status === "complete") {
      expect(paid.status).toBe(201);
      expect(ticketNow).toMatchObject({ status: "sold", orderId: order.id });
      expect([completed.length, refunded.length, orderCompleted.length, orderCancelled.length]).toEqual([1, 0, 1, 0]);
      expect(final.refund).toBeNull();
      return "paid in time";
    }
    expect(ticketNow).toMatchObject({ status: "available", orderId: null });
    expect([orderCompleted.length, orderCancelled.length]).toEqual([0, 1]);
    if (paid.status === 400 && messages(paid)[0] === "Cannot pay for a cancelled order") {
      expect([completed.length, refunded.length]).toEqual([0, 0]);
      expect(final.refund).toBeNull();
      return "refused as too late";
    }
    // charged: either accepted (201) before payments heard of the cancellation, or refunded at
    // once by the payment route itself when the cancellation landed during the charge (400)
    expect(charged).toBe(true);
    expect(completed).toHaveLength(paid.status === 201 ? 1 : 0);
    expect(refunded).toHaveLength(1);
    expect(refunded[0].data.amount).toBe(3000);
    if (paid.status === 201) expect(refunded[0].data.id).toBe(paid.body.id);
    expect(final.refund).toMatchObject({ amount: 30 });
    return "charged, then refunded";
  }
});

describe("Duplicate events", () => {
  test("When every event, expiries included, is published a second time, then nothing anyone can see changes", async () => {
    const { market, broker } = world;
    // every reservation of this file has run out or been paid: nothing changes by itself any more
    await untilPasses(
      async () => {
        const live = [...(await market.allOrders()).values()].filter((o) => o.status === "created" || o.status === "awaiting:payment");
        expect(live).toEqual([]);
      },
      windowSeconds * 1000 + 20_000,
    );
    await broker.settle();
    const seen = await observableState(world);

    const { before, after } = await publishEverythingAgain(world);

    expect(before.filter((e) => e.subject === "expiration.complete").length).toBeGreaterThan(1);
    expect(after).toHaveLength(before.length * 2);
    expect(new Set(copiesById(after).values())).toEqual(new Set([2]));
    expect(await observableState(world)).toEqual(seen);
    expect(await broker.deadLetters()).toEqual([]);
  });
});
