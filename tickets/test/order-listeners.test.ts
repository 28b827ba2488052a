import { aUser, anOrder, deliveriesSoFar, publish, waitAcked, waitRedelivered, type TestService } from "@ticketforge/common/testing";
import { randomUUID } from "node:crypto";
import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { listDeadLetters } from "@ticketforge/common";
import { tickets } from "../src/service";
import { createTicket, getTicket as getTicketAs } from "./helpers";

const seller = aUser();
/** The seller's view: it shows which order holds the ticket. */
const getTicket = (s: TestService, id: string) => getTicketAs(s, id, seller.cookie);

const under = serviceUnderTest(tickets);

/** Every ticket.updated of a ticket so far, by version. */
const updatesOf = (id: string) =>
  under.recorder
    .of("ticket.updated")
    .filter((e) => e.data.id === id)
    .map((e) => e.data)
    .sort((a, b) => a.version - b.version);

/** Waits for the ticket.updated of that version and returns it. */
const updateOf = (id: string, version: number) =>
  under.recorder.waitFor("ticket.updated", (d) => d.id === id && d.version === version).then((e) => e?.data);

const newTicket = () => createTicket(under.service, seller.cookie, { title: "Festival", price: 20 });

describe("order.created listener", () => {
  test("When an order is created for a free ticket, then the ticket is reserved for it and ticket.updated says so", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", order.created());
    expect(await updateOf(ticket.id, 1)).toEqual({
      id: ticket.id,
      title: "Festival",
      price: 2000,
      userId: seller.id,
      orderId: order.id,
      status: "reserved",
      version: 1,
    });
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", orderId: order.id, version: 1 });
  });

  test("When the same event is delivered twice, or the same version comes again, then the ticket is reserved once and one ticket.updated is published", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    const first = await publish(under.service, "order.created", order.created());
    const again = await publish(under.service, "order.created", order.created(), { id: first.id, msgId: randomUUID() });
    const sameVersion = await publish(under.service, "order.created", order.created());
    await waitAcked(under.service, "order.created", Math.max(again.seq, sameVersion.seq));
    await updateOf(ticket.id, 1);
    await under.service.ctx.relay.flushOnce(); // anything a second handling wrote would be published now
    expect(updatesOf(ticket.id)).toHaveLength(1);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", orderId: order.id, version: 1 });
  });

  test("When a later version of an order comes before its creation, then it waits, and applies after it", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    const since = await deliveriesSoFar(under.service, "order.created");
    const early = await publish(under.service, "order.created", order.created(1));
    await waitRedelivered(under.service, "order.created", early.seq, since);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", version: 0 });
    await publish(under.service, "order.created", order.created(0));
    await waitAcked(under.service, "order.created", early.seq);
    // the second one finds the ticket already reserved for this order: nothing more to change
    expect(updatesOf(ticket.id).map((u) => [u.version, u.status, u.orderId])).toEqual([[1, "reserved", order.id]]);
  });

  test("When the ticket is held by another order, then the new order waits until that order's cancellation arrives, then reserves", async () => {
    const ticket = await newTicket();
    const [first, second] = [anOrder({ ticketId: ticket.id }), anOrder({ ticketId: ticket.id })];
    await publish(under.service, "order.created", first.created());
    await updateOf(ticket.id, 1);
    const since = await deliveriesSoFar(under.service, "order.created");
    const waiting = await publish(under.service, "order.created", second.created());
    await waitRedelivered(under.service, "order.created", waiting.seq, since);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", orderId: first.id });
    await publish(under.service, "order.cancelled", first.cancelled());
    expect(await updateOf(ticket.id, 2)).toMatchObject({ status: "available", orderId: null });
    expect(await updateOf(ticket.id, 3)).toMatchObject({ status: "reserved", orderId: second.id });
  });

  test("When an order names a ticket that does not exist or is already sold, then it is dead-lettered with no effect", async () => {
    const unknown = anOrder({ ticketId: randomUUID() });
    const malformed = anOrder({ ticketId: "not-a-ticket-id" });
    const ticket = await newTicket();
    const buyer = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", buyer.created());
    await publish(under.service, "order.completed", buyer.completed());
    await updateOf(ticket.id, 2);
    const late = anOrder({ ticketId: ticket.id });
    for (const order of [unknown, malformed, late]) await publish(under.service, "order.created", order.created());
    const parked = await eventually(async () => {
      const letters = (await listDeadLetters(under.service.ctx.bus, "tickets")).map((l) => JSON.parse(l.body).data.id);
      return [unknown.id, malformed.id, late.id].every((id) => letters.includes(id)) && letters;
    }, 20_000);
    expect(parked).toEqual(expect.arrayContaining([unknown.id, malformed.id, late.id]));
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "sold", orderId: buyer.id, version: 2 });
  });
});

describe("order.created listener, when the seller changed the ticket after the order was priced (issue 27, finding 11)", () => {
  /** The seller edits the ticket through the API, as they would in the web app. */
  const edit = async (ticketId: string, body: { title: string; price: number }) => {
    const res = await request(under.service.app).put(`/api/tickets/${ticketId}`).set("Cookie", seller.cookie).send(body);
    if (res.status !== 200) throw new Error(`editing answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { version: number };
  };
  const refusalsOf = (orderId: string) =>
    under.recorder
      .of("ticket.reservation_refused")
      .filter((e) => e.data.orderId === orderId)
      .map((e) => e.data);
  const parked = async (orderId: string) =>
    (await listDeadLetters(under.service.ctx.bus, "tickets")).filter((l) => JSON.parse(l.body).data.id === orderId);

  test("When the seller raised the price between the buyer's order and its reservation, then the ticket is not reserved, ticket.reservation_refused says why and at what price, at once, and nothing is dead-lettered", async () => {
    const ticket = await createTicket(under.service, seller.cookie, { title: "Festival", price: 0.01 });
    // the buyer's order was priced at version 0, one cent; the seller's edit landed first
    const order = anOrder({ ticketId: ticket.id, priceCents: 1, ticketVersion: 0 });
    expect(await edit(ticket.id, { title: "Festival", price: 10 })).toMatchObject({ version: 1 });
    const since = await deliveriesSoFar(under.service, "order.created");
    const created = await publish(under.service, "order.created", order.created());

    const refusal = await under.recorder.waitFor("ticket.reservation_refused", (d) => d.orderId === order.id);
    expect(refusal!.data).toEqual({ orderId: order.id, ticketId: ticket.id, reason: "ticket changed", price: 1000, version: 1 });
    await waitAcked(under.service, "order.created", created.seq);
    // handled once, on its first delivery: no wait, no retry
    expect(await deliveriesSoFar(under.service, "order.created")).toBe(since + 1);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", orderId: null, version: 1, price: 10 });
    expect(updatesOf(ticket.id).map((u) => [u.version, u.status, u.price])).toEqual([[1, "available", 1000]]);
    expect(await parked(order.id)).toEqual([]);

    // the same order.created again (a replay under a new id): acked, no second refusal
    const replayed = await publish(under.service, "order.created", order.created());
    await waitAcked(under.service, "order.created", replayed.seq);
    await under.service.ctx.relay.flushOnce();
    expect(refusalsOf(order.id)).toHaveLength(1);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", version: 1 });
  });

  test("When the order was priced while orders had not yet heard of the previous hold's release, then the ticket is reserved: only the seller's edits make a price stale", async () => {
    const ticket = await newTicket();
    const first = anOrder({ ticketId: ticket.id, priceCents: 2000 });
    await publish(under.service, "order.created", first.created());
    await publish(under.service, "order.cancelled", first.cancelled());
    expect(await updateOf(ticket.id, 2)).toMatchObject({ status: "available" });
    // priced at version 1 (reserved by the first order): the release (version 2) changed no price
    const second = anOrder({ ticketId: ticket.id, priceCents: 2000, ticketVersion: 1 });
    await publish(under.service, "order.created", second.created());
    expect(await updateOf(ticket.id, 3)).toMatchObject({ status: "reserved", orderId: second.id, price: 2000 });
    expect(refusalsOf(second.id)).toEqual([]);
  });

  test("When the seller edited the ticket and then another order holds it, then an order priced before the edit is refused at once, not kept waiting for that hold", async () => {
    const ticket = await newTicket();
    await edit(ticket.id, { title: "Festival, front row", price: 20 });
    const current = anOrder({ ticketId: ticket.id, priceCents: 2000, ticketVersion: 1 });
    await publish(under.service, "order.created", current.created());
    expect(await updateOf(ticket.id, 2)).toMatchObject({ status: "reserved", orderId: current.id });
    const stale = anOrder({ ticketId: ticket.id, priceCents: 2000, ticketVersion: 0 });
    await publish(under.service, "order.created", stale.created());
    expect((await under.recorder.waitFor("ticket.reservation_refused", (d) => d.orderId === stale.id))!.data).toEqual({
      orderId: stale.id,
      ticketId: ticket.id,
      reason: "ticket changed",
      price: 2000,
      version: 2,
    });
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", orderId: current.id, version: 2 });
  });

  test("When an order.created of an earlier release carries no version, then its price decides: an old price is refused, the current one reserved", async () => {
    const ticket = await newTicket();
    await edit(ticket.id, { title: "Festival", price: 35 });
    const old = anOrder({ ticketId: ticket.id, priceCents: 2000, ticketVersion: null });
    expect("version" in old.created().ticket).toBe(false);
    await publish(under.service, "order.created", old.created());
    expect((await under.recorder.waitFor("ticket.reservation_refused", (d) => d.orderId === old.id))!.data).toMatchObject({
      reason: "ticket changed",
      price: 3500,
    });
    const current = anOrder({ ticketId: ticket.id, priceCents: 3500, ticketVersion: null });
    await publish(under.service, "order.created", current.created());
    expect(await updateOf(ticket.id, 2)).toMatchObject({ status: "reserved", orderId: current.id, price: 3500 });
  });
});

describe("order.cancelled listener", () => {
  test("When the order holding a ticket is cancelled, then the ticket is available again and ticket.updated says so", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", order.created());
    await publish(under.service, "order.cancelled", order.cancelled());
    expect(await updateOf(ticket.id, 2)).toMatchObject({ status: "available", orderId: null, price: 2000 });
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", orderId: null, version: 2 });
  });

  test("When a cancellation comes again or an older version comes late, then it is acked with no effect", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", order.created());
    const cancelled = await publish(under.service, "order.cancelled", order.cancelled());
    await updateOf(ticket.id, 2);
    const again = await publish(under.service, "order.cancelled", order.cancelled(), { id: cancelled.id, msgId: randomUUID() });
    const older = await publish(under.service, "order.cancelled", order.cancelled(0));
    await waitAcked(under.service, "order.cancelled", Math.max(again.seq, older.seq));
    await under.service.ctx.relay.flushOnce();
    expect(updatesOf(ticket.id).map((u) => u.version)).toEqual([1, 2]);
  });

  test("When a cancellation arrives before its order's creation, then the ticket is reserved in between and ends available, never stuck", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    const since = await deliveriesSoFar(under.service, "order.cancelled");
    const early = await publish(under.service, "order.cancelled", order.cancelled());
    await waitRedelivered(under.service, "order.cancelled", early.seq, since);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", version: 0 });
    await publish(under.service, "order.created", order.created());
    await updateOf(ticket.id, 2);
    expect(updatesOf(ticket.id).map((u) => [u.version, u.status, u.orderId])).toEqual([
      [1, "reserved", order.id],
      [2, "available", null],
    ]);
  });

  test("When an old order's cancellation arrives after a newer order reserved the ticket, then the ticket stays with the newer order", async () => {
    const ticket = await newTicket();
    const [older, newer] = [anOrder({ ticketId: ticket.id }), anOrder({ ticketId: ticket.id })];
    await publish(under.service, "order.created", older.created());
    await publish(under.service, "order.cancelled", older.cancelled());
    await publish(under.service, "order.created", newer.created());
    await updateOf(ticket.id, 3);
    // the old cancellation once more, as a fresh message (e.g. replayed by an operator)
    const replayed = await publish(under.service, "order.cancelled", older.cancelled());
    await waitAcked(under.service, "order.cancelled", replayed.seq);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", orderId: newer.id, version: 3 });
  });

  test("When an order that never held the ticket is cancelled, then the ticket stays with the order holding it", async () => {
    const ticket = await newTicket();
    const holder = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", holder.created());
    await updateOf(ticket.id, 1);
    // its first event for tickets, so the version check lets it through: only the holder check stops it
    const stranger = await publish(under.service, "order.cancelled", anOrder({ ticketId: ticket.id }).cancelled(0));
    await waitAcked(under.service, "order.cancelled", stranger.seq);
    await under.service.ctx.relay.flushOnce();
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", orderId: holder.id, version: 1 });
    expect(updatesOf(ticket.id)).toHaveLength(1);
  });
});

describe("order.completed listener", () => {
  test("When the order holding a ticket is completed, then the ticket is sold and ticket.updated says so", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", order.created());
    await publish(under.service, "order.completed", order.completed());
    expect(await updateOf(ticket.id, 2)).toMatchObject({ status: "sold", orderId: order.id });
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "sold", orderId: order.id, version: 2 });
  });

  test("When a completion comes again, or a cancellation of the same version after it, then it is acked with no effect", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    await publish(under.service, "order.created", order.created());
    const completed = await publish(under.service, "order.completed", order.completed());
    await updateOf(ticket.id, 2);
    const again = await publish(under.service, "order.completed", order.completed(), { id: completed.id, msgId: randomUUID() });
    const sameVersion = await publish(under.service, "order.completed", order.completed());
    const cancelled = await publish(under.service, "order.cancelled", order.cancelled());
    await waitAcked(under.service, "order.completed", Math.max(again.seq, sameVersion.seq));
    await waitAcked(under.service, "order.cancelled", cancelled.seq);
    await under.service.ctx.relay.flushOnce();
    expect(updatesOf(ticket.id).map((u) => u.version)).toEqual([1, 2]);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "sold", orderId: order.id });
  });

  test("When a completion arrives before its order's creation, then it waits, and the ticket ends sold", async () => {
    const ticket = await newTicket();
    const order = anOrder({ ticketId: ticket.id });
    const since = await deliveriesSoFar(under.service, "order.completed");
    const early = await publish(under.service, "order.completed", order.completed());
    await waitRedelivered(under.service, "order.completed", early.seq, since);
    expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", version: 0 });
    await publish(under.service, "order.created", order.created());
    await updateOf(ticket.id, 2);
    expect(updatesOf(ticket.id).map((u) => [u.version, u.status])).toEqual([
      [1, "reserved"],
      [2, "sold"],
    ]);
  });
});
