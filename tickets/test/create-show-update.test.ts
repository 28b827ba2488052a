import { aUser, anOrder, publish, signInCookie } from "@ticketforge/common/testing";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import request from "supertest";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { tickets } from "../src/service";
import { createTicket, getTicket } from "./helpers";

const api = () => request(under.service.app);
const seller = aUser();
const someoneElse = aUser();

const under = serviceUnderTest(tickets);

const updatesOf = (id: string) => under.recorder.of("ticket.updated").filter((e) => e.data.id === id);

/** Reserves the ticket for a new order through order.created, as the orders service would. */
async function reserve(ticketId: string) {
  const order = anOrder({ ticketId });
  await publish(under.service, "order.created", order.created());
  await eventually(async () => (await getTicket(under.service, ticketId)).status === "reserved");
  return order;
}

describe("POST /api/tickets", () => {
  test("When a signed-in seller offers a ticket, then 201 with the ticket, and ticket.created carries it in cents", async () => {
    const res = await api().post("/api/tickets").set("Cookie", seller.cookie).send({ title: "Concert", price: 20.5 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      title: "Concert",
      price: 20.5,
      userId: seller.id,
      version: 0,
      orderId: null,
      status: "available",
    });
    const event = await under.recorder.waitFor("ticket.created", (d) => d.id === res.body.id);
    expect(event?.data).toEqual({ id: res.body.id, title: "Concert", price: 2050, userId: seller.id, version: 0 });
  });

  test.each([
    [20.1, 2010],
    [0.29, 29],
    ["20.50", 2050],
    [0.01, 1],
    [1_000_000, 100_000_000],
  ])("When the price is %j, then the event holds %i cents and the API shows the same price back", async (price, cents) => {
    const res = await api().post("/api/tickets").set("Cookie", seller.cookie).send({ title: "Priced", price });
    expect(res.status).toBe(201);
    expect(res.body.price).toBe(Number(price));
    expect((await getTicket(under.service, res.body.id)).price).toBe(Number(price));
    expect((await under.recorder.waitFor("ticket.created", (d) => d.id === res.body.id))?.data.price).toBe(cents);
  });

  test("When the title has spaces around it, then it is kept trimmed, and 200 characters are allowed", async () => {
    const long = "x".repeat(200);
    const res = await api()
      .post("/api/tickets")
      .set("Cookie", seller.cookie)
      .send({ title: `   ${long}  `, price: 5 });
    expect(res.status).toBe(201);
    expect(res.body.title).toBe(long);
  });

  test("When nobody is signed in, then 401 and no ticket is created", async () => {
    const title = `anonymous ${randomUUID()}`;
    const res = await api().post("/api/tickets").send({ title, price: 10 });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: "Not authorized" }] });
    expect((await api().get("/api/tickets").query({ q: title })).body).toEqual([]);
  });

  test.each([
    [{ price: 10 }, "title"],
    [{ title: "   ", price: 10 }, "title"],
    [{ title: "x".repeat(201), price: 10 }, "title"],
    [{ title: 42, price: 10 }, "title"],
    [{ title: "Gig" }, "price"],
    [{ title: "Gig", price: null }, "price"],
    [{ title: "Gig", price: -10 }, "price"],
    [{ title: "Gig", price: 0 }, "price"],
    [{ title: "Gig", price: "abc" }, "price"],
    [{ title: "Gig", price: "1e3" }, "price"],
    [{ title: "Gig", price: true }, "price"],
    [{ title: "Gig", price: 20.123 }, "price"],
    [{ title: "Gig", price: 1_000_000.01 }, "price"],
    [{ title: "Gig", price: 1e-9 }, "price"],
    [{ title: "Gig", price: 0.004 }, "price"],
    [{ title: "Gig\u0000night", price: 10 }, "title"],
    [{ title: "Gig\u0007", price: 10 }, "title"],
    [{ title: "Gig\u009b", price: 10 }, "title"],
    [{ title: "Gig\r\nSet-Cookie: x", price: 10 }, "title"],
    [{ title: "invoice\u202Efdp.exe", price: 10 }, "title"],
    [{ title: "Gig \u2066isolate\u2069", price: 10 }, "title"],
  ])("When the body is %j, then 400 naming %s", async (body, field) => {
    const res = await api().post("/api/tickets").set("Cookie", seller.cookie).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  test("When the body is not an object or not JSON, then 400 with the error shape, never a 500", async () => {
    const list = await api().post("/api/tickets").set("Cookie", seller.cookie).send([1, 2]);
    expect(list.status).toBe(400);
    expect(list.body.errors).toEqual([{ message: expect.any(String) }]);
    const broken = await api().post("/api/tickets").set("Cookie", seller.cookie).set("Content-Type", "application/json").send('{"title":');
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ errors: [{ message: "Malformed JSON in request body" }] });
  });
});

describe("PUT /api/tickets/:id with hostile input", () => {
  test.each([
    [{ title: "Gig\u0000", price: 10 }, "title"],
    [{ title: "Gig\u202E", price: 10 }, "title"],
    [{ title: "Gig", price: 1e-9 }, "price"],
  ])("When the edit is %j, then 400 naming %s and the ticket is unchanged", async (body, field) => {
    const ticket = await createTicket(under.service, seller.cookie, { title: "Unchanged", price: 12 });
    const res = await api().put(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
    expect(await getTicket(under.service, ticket.id, seller.cookie)).toEqual(ticket);
  });
});

describe("GET /api/tickets/:id", () => {
  test("When the seller, another user or an anonymous visitor asks for a ticket, then each gets it, and only the seller sees who sells it", async () => {
    const ticket = await createTicket(under.service, seller.cookie, { title: "Match", price: 45 });
    const seen = await api().get(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie);
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual(ticket);
    expect(seen.body).toMatchObject({ userId: seller.id, orderId: null });
    const { userId: _seller, orderId: _order, ...publicView } = ticket;
    // the last: the seller's id in a token signed by another key
    const impostor = signInCookie(generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(), {
      id: seller.id,
    });
    for (const cookie of [someoneElse.cookie, "", impostor.cookie]) {
      const res = await api().get(`/api/tickets/${ticket.id}`).set("Cookie", cookie);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(publicView);
      expect(JSON.stringify(res.body)).not.toContain(seller.id);
    }
  });

  test.each([randomUUID(), "not-a-uuid", "123", "' or 1=1 --"])("When the ticket id is %j (unknown or malformed), then 404", async (id) => {
    const res = await api().get(`/api/tickets/${encodeURIComponent(id)}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Ticket not found" }] });
  });
});

describe("PUT /api/tickets/:id", () => {
  test("When the seller edits an available ticket, then 200 with version 1, and ticket.updated carries it", async () => {
    const ticket = await createTicket(under.service, seller.cookie, { title: "Opera", price: 30 });
    const res = await api().put(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie).send({ title: " Opera, row 2 ", price: "35.10" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...ticket, title: "Opera, row 2", price: 35.1, version: 1 });
    expect(await getTicket(under.service, ticket.id, seller.cookie)).toEqual(res.body);
    const event = await under.recorder.waitFor("ticket.updated", (d) => d.id === ticket.id);
    expect(event?.data).toEqual({
      id: ticket.id,
      title: "Opera, row 2",
      price: 3510,
      userId: seller.id,
      orderId: null,
      status: "available",
      version: 1,
    });
  });

  test("When another user or an anonymous visitor edits the ticket, then 401 and it is unchanged", async () => {
    const ticket = await createTicket(under.service, seller.cookie);
    const other = await api().put(`/api/tickets/${ticket.id}`).set("Cookie", someoneElse.cookie).send({ title: "Mine now", price: 1 });
    expect(other.status).toBe(401);
    expect(other.body).toEqual({ errors: [{ message: "Not authorized" }] });
    const anonymous = await api().put(`/api/tickets/${ticket.id}`).send({ title: "Mine now", price: 1 });
    expect(anonymous.status).toBe(401);
    expect(await getTicket(under.service, ticket.id, seller.cookie)).toEqual(ticket);
  });

  test.each([randomUUID(), "not-a-uuid", "42"])("When the ticket id is %j (unknown or malformed), then 404", async (id) => {
    const res = await api().put(`/api/tickets/${id}`).set("Cookie", seller.cookie).send({ title: "Edit", price: 10 });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: "Ticket not found" }] });
  });

  test.each([
    [{ price: 10 }, "title"],
    [{ title: "", price: 10 }, "title"],
    [{ title: "Edit" }, "price"],
    [{ title: "Edit", price: 0.001 }, "price"],
    [{ title: "Edit", price: "ten" }, "price"],
  ])("When the body is %j, then 400 naming %s and the ticket is unchanged", async (body, field) => {
    const ticket = await createTicket(under.service, seller.cookie);
    const res = await api().put(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
    expect(await getTicket(under.service, ticket.id, seller.cookie)).toEqual(ticket);
  });

  test("When the ticket is reserved, then the seller's edit is refused with 400 and it is unchanged", async () => {
    const ticket = await createTicket(under.service, seller.cookie);
    await reserve(ticket.id);
    const before = await getTicket(under.service, ticket.id);
    const res = await api().put(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie).send({ title: "Too late", price: 99 });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Cannot edit a reserved ticket" }] });
    expect(await getTicket(under.service, ticket.id)).toEqual(before);
  });

  test("When the ticket is sold, then the seller's edit is refused with 400", async () => {
    const ticket = await createTicket(under.service, seller.cookie);
    const order = await reserve(ticket.id);
    await publish(under.service, "order.completed", order.completed());
    await eventually(async () => (await getTicket(under.service, ticket.id)).status === "sold");
    const res = await api().put(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie).send({ title: "Too late", price: 99 });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Cannot edit a reserved ticket" }] });
  });

  test("When an edit races a reservation, then every ticket.updated tells the state at its version, never a stale one, and an order priced before the edit is refused", async () => {
    const ticket = await createTicket(under.service, seller.cookie, { title: "Racing", price: 10 });
    const order = anOrder({ ticketId: ticket.id });
    const [edit] = await Promise.all([
      api().put(`/api/tickets/${ticket.id}`).set("Cookie", seller.cookie).send({ title: "Edited", price: 12 }),
      publish(under.service, "order.created", order.created()),
    ]);
    expect([200, 400]).toContain(edit.status);
    if (edit.status === 200) {
      // the edit came first: the order was priced at the ticket's version before it, so tickets
      // refuses it (docs/design.md §4 rule 6) and the only update is the edit
      const refusal = await under.recorder.waitFor("ticket.reservation_refused", (d) => d.orderId === order.id);
      expect(refusal?.data).toMatchObject({ ticketId: ticket.id, reason: "ticket changed", price: 1200, version: 1 });
      expect(updatesOf(ticket.id).map((e) => e.data)).toEqual([
        expect.objectContaining({ version: 1, status: "available", title: "Edited", price: 1200 }),
      ]);
      expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "available", version: 1, title: "Edited" });
    } else {
      // the reservation came first: the edit is refused and the one update is the reservation
      await eventually(() => updatesOf(ticket.id).length === 1);
      expect(updatesOf(ticket.id).map((e) => e.data)).toEqual([
        expect.objectContaining({ version: 1, status: "reserved", title: "Racing", price: 1000 }),
      ]);
      expect(await getTicket(under.service, ticket.id)).toMatchObject({ status: "reserved", version: 1, title: "Racing" });
    }
  });
});
