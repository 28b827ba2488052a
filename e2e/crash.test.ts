/**
 * Crashes: a service killed with SIGKILL at the worst moment, and nats-server killed in the middle
 * of a run. Afterwards every service must converge on the same state, with no lost and no doubled
 * effect (docs/design.md §5). A killed nats-server may also forget the acknowledgements of its last
 * moments and redeliver those events after the ack wait (30 s): the inboxes make that harmless,
 * and the convergence timeouts below leave room for it.
 */
import { eventually } from "@ticketforge/nats";
import type { Order, Pass, Ticket } from "@ticketforge/common/api";
import { inBatches, onceKnown, untilPasses, type Reply } from "./support/marketplace";
import { testSize } from "./support/size";
import { worldUnderTest } from "./support/world";

jest.setTimeout(180_000);

const world = worldUnderTest();
/** Orders placed around the broker's outage: CRASH_ORDERS, 20 in `npm test`, 100 in `npm run test:long`; ten buyers share them. */
const orderCount = testSize("CRASH_ORDERS", 20, 100);
if (orderCount % 10 !== 0) throw new Error(`CRASH_ORDERS must be a multiple of 10, one share per buyer (got ${orderCount})`);
const at = (share: number) => Math.round(orderCount * share);

describe("The orders service crashes", () => {
  test("When the orders service is killed right after taking an order, before its event left, then the order still reaches the other services", async () => {
    const { market, broker, stack } = world;
    const seller = await market.signUp("seller");
    const buyer = await market.signUp("buyer");
    const ticket = await market.sell(seller, "Derby", 35);
    await eventually(async () => (await broker.of("ticket.created", (d) => d.id === ticket.id)).length === 1, 20_000);
    await world.caughtUp();

    // The order commits, but its order.created cannot leave: the broker is down. Then the
    // service dies without a chance to retry (SIGKILL), and only then does the broker come back.
    // (The broker stops cleanly here: its own crash is the next test.)
    await stack.nats.stop({ graceful: true });
    let order: Order;
    try {
      const ordered = await market.placeOrder(buyer, ticket.id);
      expect(ordered.status).toBe(201);
      order = ordered.body;
      await stack.processes.orders.kill();
    } finally {
      await stack.nats.start();
    }
    // the broker is back but the order's event is not there: it never left the dead process
    // (an array, even empty, is truthy: this waits only until the broker answers)
    expect(await eventually(() => broker.of("order.created", (d) => d.id === order.id), 20_000)).toHaveLength(0);
    stack.processes.orders.restart();
    expect(await stack.processes.orders.waitReady(120_000)).toBe(true);

    // the order survived the crash, and the restarted relay published its event from the outbox
    // (once the dead process's claim on the row ran out: at most 15 s, then the next sweep)
    expect(await market.orderOf(buyer, order.id)).toMatchObject({ status: "created", ticket: { id: ticket.id } });
    await untilPasses(async () => expect(await market.ticket(ticket.id)).toMatchObject({ status: "reserved", orderId: order.id }), 60_000);
    expect(await broker.of("order.created", (d) => d.id === order.id)).toHaveLength(1);

    // every other service has it too: payments takes the payment, and the ticket is sold
    const paid = await onceKnown(() => market.pay(buyer, order.id, "tok_visa"), 30_000);
    expect(paid.status).toBe(201);
    await untilPasses(async () => expect(await market.ticket(ticket.id)).toMatchObject({ status: "sold", orderId: order.id }), 30_000);
    expect((await market.orderOf(buyer, order.id)).status).toBe("complete");
  });
});

describe("The broker crashes", () => {
  test(`When nats-server is down for 5 s while ${orderCount} orders are placed, then every order is taken and every service converges`, async () => {
    const { market, broker, stack } = world;
    const seller = await market.signUp("seller");
    const buyers = await market.signUpMany(10, "crowd");
    const tickets = await inBatches(
      Array.from({ length: orderCount }, (_, i) => i),
      10,
      (i) => market.sell(seller, `Seat ${i}`, 10 + i),
    );
    const ticketIds = new Set(tickets.map((t) => t.id));
    await eventually(async () => (await broker.of("ticket.created", (d) => ticketIds.has(d.id))).length === orderCount, 30_000);
    await world.caughtUp(60_000);

    // ten buyers, a tenth of the orders each, five requests at a time, before, during and after the outage
    const placeOrders = (from: number, to: number) =>
      inBatches(tickets.slice(from, to), 5, (t: Ticket, i) => market.placeOrder(buyers[(from + i) % buyers.length], t.id));
    const before = await placeOrders(0, at(0.3));
    await stack.nats.stop(); // SIGKILL, while events of the last orders may still be on their way
    const downAt = Date.now();
    let during: Reply[];
    try {
      during = await placeOrders(at(0.3), at(0.7));
      // the outage itself is what is under test: it lasts 5 s whatever the orders took
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + 5_000 - Date.now())));
    } finally {
      await stack.nats.start();
    }
    const after = await placeOrders(at(0.7), orderCount);

    // every order was taken, also while the broker was down (an order only writes to its database)
    const replies = [...before, ...during, ...after];
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 201));
    const orders: Order[] = replies.map((r) => r.body);
    expect(new Set(orders.map((o) => o.ticket.id))).toEqual(ticketIds);
    const orderOf = new Map(orders.map((o) => [o.ticket.id, o.id]));

    // the tickets service reserves every ticket for exactly the order that took it
    await untilPasses(async () => {
      const now = await market.tickets([...ticketIds]);
      const wrong = now.filter((t) => t.status !== "reserved" || t.orderId !== orderOf.get(t.id));
      expect(wrong).toEqual([]);
    }, 120_000);

    // payments caught up too: orders from before, during and after the outage can be paid
    const paidOrders = [orders[0], orders[at(0.5)], orders[orderCount - 1]];
    for (const o of paidOrders) {
      const buyer = buyers.find((b) => b.id === o.userId)!;
      expect((await onceKnown(() => market.pay(buyer, o.id, "tok_visa"), 60_000)).status).toBe(201);
      await untilPasses(async () => expect(await market.ticket(o.ticket.id)).toMatchObject({ status: "sold", orderId: o.id }), 30_000);
    }
    // Once every consumer has caught up, including the redeliveries of events whose acks the
    // killed broker forgot, nothing was lost or doubled.
    await world.caughtUp(90_000);
    // no order lost or doubled: each buyer sees exactly their share, all but the paid ones still open
    const seen = [...(await market.allOrders()).values()].filter((o) => ticketIds.has(o.ticket.id));
    expect(seen.map((o) => o.id).sort()).toEqual(orders.map((o) => o.id).sort());
    const paidIds = new Set(paidOrders.map((o) => o.id));
    expect(seen.filter((o) => o.status !== (paidIds.has(o.id) ? "complete" : "created"))).toEqual([]);
    for (const b of buyers) expect(seen.filter((o) => o.userId === b.id)).toHaveLength(orderCount / 10);

    // each order's event stored once, each ticket reserved once (one ticket.updated to "reserved")
    const created = await broker.of("order.created", (d) => ticketIds.has(d.ticket.id));
    expect(created).toHaveLength(orderCount);
    expect(new Set(created.map((e) => e.data.id)).size).toBe(orderCount);
    const reservations = await broker.of("ticket.updated", (d) => ticketIds.has(d.id) && d.status === "reserved");
    expect(reservations).toHaveLength(orderCount);
    expect(new Set(reservations.map((e) => e.data.id)).size).toBe(orderCount);
    // and the tickets still say so: reserved by their order, or sold to it
    const soldTickets = new Set(paidOrders.map((o) => o.ticket.id));
    const finalTickets = await market.tickets([...ticketIds]);
    expect(
      finalTickets.filter((t) => t.orderId !== orderOf.get(t.id) || t.status !== (soldTickets.has(t.id) ? "sold" : "reserved")),
    ).toEqual([]);

    expect(await broker.deadLetters()).toEqual([]);
  });
});

describe("The passes service crashes", () => {
  test("When passes is killed mid-way through issuing passes and orders keep completing while it is down, then after its restart each of the twenty sold tickets has exactly one pass", async () => {
    const { market, broker, stack } = world;
    const seller = await market.signUp("seller");
    const buyer = await market.signUp("fan");
    const tickets = await inBatches(
      Array.from({ length: 20 }, (_, i) => i),
      5,
      (i) => market.sell(seller, `Gig ${i}`, 15),
    );
    const ticketIds = new Set(tickets.map((t) => t.id));
    await eventually(async () => (await broker.of("ticket.created", (d) => ticketIds.has(d.id))).length === 20, 30_000);
    await world.caughtUp(60_000);
    const orders = await inBatches(tickets, 5, (t: Ticket) => onceKnown(() => market.placeOrder(buyer, t.id), 30_000));
    const orderIds = orders.map((o) => (o.body as Order).id);

    // half the payments land; passes dies (SIGKILL) as soon as its first pass is out, whatever it
    // was doing; the other half is paid while it is dead
    const pay = (ids: string[]) => inBatches(ids, 5, (id: string) => onceKnown(() => market.pay(buyer, id, "tok_visa"), 30_000));
    await pay(orderIds.slice(0, 10));
    await eventually(async () => (await broker.of("pass.issued", (d) => orderIds.includes(d.orderId))).length > 0, 30_000);
    await stack.processes.passes.kill();
    await pay(orderIds.slice(10));
    stack.processes.passes.restart();
    expect(await stack.processes.passes.waitReady(120_000)).toBe(true);

    await untilPasses(async () => {
      const listed = (await market.request("GET", "/api/passes", { as: buyer })).body as Pass[];
      expect(listed.map((p) => p.orderId).sort()).toEqual([...orderIds].sort());
    }, 60_000);
    await world.caughtUp(90_000);
    const issued = await broker.of("pass.issued", (d) => orderIds.includes(d.orderId));
    expect(issued).toHaveLength(20);
    expect(new Set(issued.map((e) => e.data.orderId)).size).toBe(20);
    expect(await broker.deadLetters()).toEqual([]);
  });
});
