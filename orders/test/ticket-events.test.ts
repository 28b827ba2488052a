import { aUser, publish } from "@ticketforge/common/testing";
import { randomUUID } from "node:crypto";
import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import type { EventData } from "@ticketforge/common";
import { orders } from "../src/service";
import { acked, givenTicket, redelivered } from "./helpers";

const api = () => request(under.service.app);

const under = serviceUnderTest(orders);

type Ticket = EventData<"ticket.created">;

/** The seller's ticket at a later version, as the tickets service announces it. */
const updated = (t: Ticket, version: number, title: string, price = t.price): EventData<"ticket.updated"> => ({
  ...t,
  version,
  title,
  price,
  orderId: null,
  status: "available",
});

/** What a buyer sees of the ticket when ordering it now: the orders service's view of it. */
async function orderedTicket(ticketId: string) {
  const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId });
  return { status: res.status, ticket: res.body.ticket };
}

/** The ticket as a buyer who already ordered it sees it on the order. */
const seenOnOrder = async (orderId: string, cookie: string) =>
  (await api().get(`/api/orders/${orderId}`).set("Cookie", cookie)).body.ticket;

describe("ticket.created listener", () => {
  test("When a ticket is put on sale, then buyers can order it at its title and price", async () => {
    const ticket = { id: randomUUID(), title: "Jazz night", price: 4500, userId: randomUUID(), version: 0 };
    expect((await orderedTicket(ticket.id)).status).toBe(404);
    await publish(under.service, "ticket.created", ticket);
    const ordered = await eventually(async () => {
      const attempt = await orderedTicket(ticket.id);
      return attempt.status === 201 ? attempt : undefined;
    });
    expect(ordered!.ticket).toEqual({ id: ticket.id, title: "Jazz night", price: 45 });
  });

  test("When ticket.created comes again under a new event id, then it is acked and changes nothing", async () => {
    const ticket = await givenTicket(under.service, { title: "Original", price: 1000 });
    const again = await publish(under.service, "ticket.created", { ...ticket, title: "Replayed", price: 9999 });
    await acked(under.service, "ticket.created", again.seq);
    expect(await orderedTicket(ticket.id)).toEqual({ status: 201, ticket: { id: ticket.id, title: "Original", price: 10 } });
  });
});

describe("ticket.updated listener", () => {
  test("When the next version arrives, then the new title and price apply, and an order placed now says it was priced at that version", async () => {
    const ticket = await givenTicket(under.service, { title: "Before", price: 1000 });
    const { seq } = await publish(under.service, "ticket.updated", updated(ticket, 1, "After", 1550));
    await acked(under.service, "ticket.updated", seq);
    const res = await api().post("/api/orders").set("Cookie", aUser().cookie).send({ ticketId: ticket.id });
    expect([res.status, res.body.ticket]).toEqual([201, { id: ticket.id, title: "After", price: 15.5 }]);
    const created = await under.recorder.waitFor("order.created", (d) => d.id === res.body.id);
    expect(created!.data.ticket).toEqual({ id: ticket.id, price: 1550, version: 1 });
  });

  test("When the same version comes again, then it is acked with no effect", async () => {
    const ticket = await givenTicket(under.service, { title: "Before" });
    await publish(under.service, "ticket.updated", updated(ticket, 1, "Version one"));
    const again = await publish(under.service, "ticket.updated", updated(ticket, 1, "Version one, replayed"));
    await acked(under.service, "ticket.updated", again.seq);
    expect((await orderedTicket(ticket.id)).ticket.title).toBe("Version one");
  });

  test("When an older version comes late, then it is acked with no effect", async () => {
    const ticket = await givenTicket(under.service, { title: "Before" });
    await publish(under.service, "ticket.updated", updated(ticket, 1, "Version one"));
    await publish(under.service, "ticket.updated", updated(ticket, 2, "Version two"));
    const late = await publish(under.service, "ticket.updated", updated(ticket, 1, "Stale"));
    await acked(under.service, "ticket.updated", late.seq);
    expect((await orderedTicket(ticket.id)).ticket.title).toBe("Version two");
  });

  test("When a version comes early, then it waits and applies right after the one before it", async () => {
    const buyer = aUser();
    const ticket = await givenTicket(under.service, { title: "Version zero" });
    const order = (await api().post("/api/orders").set("Cookie", buyer.cookie).send({ ticketId: ticket.id })).body;
    const early = await publish(under.service, "ticket.updated", updated(ticket, 2, "Version two"));
    await redelivered(under.service, "ticket.updated", early.seq);
    expect((await seenOnOrder(order.id, buyer.cookie)).title).toBe("Version zero");
    await publish(under.service, "ticket.updated", updated(ticket, 1, "Version one"));
    await acked(under.service, "ticket.updated", early.seq);
    expect((await seenOnOrder(order.id, buyer.cookie)).title).toBe("Version two");
  });

  test("When an update overtakes its ticket's creation, then it waits for it and then applies", async () => {
    const ticket = { id: randomUUID(), title: "Created", price: 1000, userId: randomUUID(), version: 0 };
    const early = await publish(under.service, "ticket.updated", updated(ticket, 1, "Updated"));
    await redelivered(under.service, "ticket.updated", early.seq);
    expect((await orderedTicket(ticket.id)).status).toBe(404);
    await publish(under.service, "ticket.created", ticket);
    await acked(under.service, "ticket.updated", early.seq);
    expect((await orderedTicket(ticket.id)).ticket.title).toBe("Updated");
  });
});
