import request from "supertest";
import { randomUUID } from "node:crypto";
import { sql } from "@ticketforge/common";
import { aUser, anOrder, aTicket, publish } from "@ticketforge/common/testing";
import { eventually, serviceUnderTest } from "@ticketforge/nats";
import { passes } from "../src/service";
import { codeOf, givenPass, givenUser } from "./helpers";

const under = serviceUnderTest(passes);
const api = () => request(under.service.app);

describe("order.completed listener", () => {
  test("When an order completes, then its buyer has one valid pass and pass.issued leaves", async () => {
    const seller = aUser();
    const buyer = aUser();
    const { ticket, order, pass } = await givenPass(under.service, seller, buyer, "Opera night");
    const res = await api().get("/api/passes").set("Cookie", buyer.cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ id: pass.id, orderId: order.id, ticket: { id: ticket.id, title: "Opera night" }, status: "valid" }]);
    const event = await under.recorder.waitFor("pass.issued", (d) => d.orderId === order.id);
    expect(event!.data).toEqual({ id: pass.id, ticketId: ticket.id, orderId: order.id, ownerId: buyer.id, transferredFrom: null });
  });

  test("When order.completed is delivered again (a replay), then no second pass is issued", async () => {
    const buyer = aUser();
    const { order } = await givenPass(under.service, aUser(), buyer);
    await publish(under.service, "order.completed", order.completed(), { id: randomUUID(), msgId: randomUUID() });
    await publish(under.service, "order.completed", order.completed(), { id: randomUUID(), msgId: randomUUID() });
    await eventually(async () => {
      const info = await under.service.ctx.bus.jsm.consumers.info("ORDERS", "passes-order-completed");
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    const res = await api().get("/api/passes").set("Cookie", buyer.cookie);
    expect(res.body.filter((p: { orderId: string }) => p.orderId === order.id)).toHaveLength(1);
    expect(under.recorder.of("pass.issued").filter((e) => e.data.orderId === order.id)).toHaveLength(1);
  });

  test("When order.completed arrives before its ticket is known, then the pass is issued once it is", async () => {
    const buyer = aUser();
    const ticket = aTicket();
    const order = anOrder({ ticketId: ticket.id, buyerId: buyer.id });
    await publish(under.service, "order.completed", order.completed());
    await publish(under.service, "ticket.created", ticket);
    const event = await under.recorder.waitFor("pass.issued", (d) => d.orderId === order.id, 15_000);
    expect(event!.data.ownerId).toBe(buyer.id);
  });

  test("When an order.completed published before it named the buyer arrives, then the buyer recorded from its order.created gets the pass", async () => {
    const buyer = aUser();
    const ticket = aTicket();
    const order = anOrder({ ticketId: ticket.id, buyerId: buyer.id });
    await publish(under.service, "ticket.created", ticket);
    // what an earlier release recorded from the order's order.created
    await sql`insert into orders (id, buyer_id, ticket_id) values (${order.id}, ${buyer.id}, ${ticket.id})`.execute(under.service.ctx.db);
    const { userId: _, ...before } = order.completed();
    await publish(under.service, "order.completed", before);
    const event = await under.recorder.waitFor("pass.issued", (d) => d.orderId === order.id, 15_000);
    expect(event!.data.ownerId).toBe(buyer.id);
  });
});

describe("GET /api/passes/{id}/code", () => {
  test("When the owner asks, then 200 with a code and its expiry at the end of the current 30-second window", async () => {
    const buyer = aUser();
    const { pass } = await givenPass(under.service, aUser(), buyer);
    const res = await api().get(`/api/passes/${pass.id}/code`).set("Cookie", buyer.cookie);
    expect(res.status).toBe(200);
    const expiresAt = Date.parse(res.body.expiresAt);
    expect(expiresAt % 30_000).toBe(0);
    expect(expiresAt - Date.now()).toBeGreaterThan(0);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(30_000);
  });

  test("When someone else asks for a pass's code, or names a malformed id, then 404", async () => {
    const { pass } = await givenPass(under.service, aUser(), aUser());
    expect((await api().get(`/api/passes/${pass.id}/code`).set("Cookie", aUser().cookie)).status).toBe(404);
    expect((await api().get(`/api/passes/nope/code`).set("Cookie", aUser().cookie)).status).toBe(404);
  });
});

describe("POST /api/checkins", () => {
  test("When the seller scans a valid code, then 201 admitted and pass.checked_in leaves; a second scan is 409 naming when and which scanner", async () => {
    const seller = aUser();
    const buyer = aUser();
    const { pass, ticket } = await givenPass(under.service, seller, buyer, "Jazz");
    const code = await codeOf(under.service, pass.id, buyer);
    const first = await api().post("/api/checkins").set("Cookie", seller.cookie).send({ code, scanner: "door-1" });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      passId: pass.id,
      ticket: { id: ticket.id, title: "Jazz" },
      scanner: "door-1",
      admittedAt: expect.any(String),
    });
    const again = await api().post("/api/checkins").set("Cookie", seller.cookie).send({ code, scanner: "door-2" });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].message).toBe(`Already admitted at ${first.body.admittedAt} by scanner door-1`);
    const event = await under.recorder.waitFor("pass.checked_in", (d) => d.id === pass.id);
    expect(event!.data).toMatchObject({ scanner: "door-1", offline: false, admittedAt: first.body.admittedAt });
    const listed = await api().get("/api/passes").set("Cookie", buyer.cookie);
    expect(listed.body.find((p: { id: string }) => p.id === pass.id).status).toBe("used");
  });

  test("When twenty scanners scan one pass at once, then exactly one admits it and nineteen are refused with 409", async () => {
    const seller = aUser();
    const buyer = aUser();
    const { pass } = await givenPass(under.service, seller, buyer);
    const code = await codeOf(under.service, pass.id, buyer);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api()
          .post("/api/checkins")
          .set("Cookie", seller.cookie)
          .send({ code, scanner: `door-${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    await eventually(async () => (await under.service.ctx.relay.pending()) === 0);
    await eventually(() => under.recorder.of("pass.checked_in").some((e) => e.data.id === pass.id));
    expect(under.recorder.of("pass.checked_in").filter((e) => e.data.id === pass.id)).toHaveLength(1);
  });

  test("When someone other than the ticket's seller scans a code, then 403 and the pass stays valid", async () => {
    const buyer = aUser();
    const { pass } = await givenPass(under.service, aUser(), buyer);
    const code = await codeOf(under.service, pass.id, buyer);
    const res = await api().post("/api/checkins").set("Cookie", aUser().cookie).send({ code });
    expect(res.status).toBe(403);
    const listed = await api().get("/api/passes").set("Cookie", buyer.cookie);
    expect(listed.body.find((p: { id: string }) => p.id === pass.id).status).toBe("valid");
  });

  test("When a code is forged, then 400 saying it is not genuine; without a code, 400 naming the field", async () => {
    const seller = aUser();
    const buyer = aUser();
    const { pass } = await givenPass(under.service, seller, buyer);
    const genuine = Buffer.from(await codeOf(under.service, pass.id, buyer), "base64url");
    genuine[genuine.length - 1] ^= 1;
    const forged = await api()
      .post("/api/checkins")
      .set("Cookie", seller.cookie)
      .send({ code: genuine.toString("base64url") });
    expect(forged.status).toBe(400);
    expect(forged.body.errors[0].message).toMatch(/not genuine/);
    const missing = await api().post("/api/checkins").set("Cookie", seller.cookie).send({});
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe("code");
  });
});

describe("POST /api/passes/{id}/transfer", () => {
  test("When the owner transfers a pass, then the recipient has a new pass, the old code is refused with 410 and the new one admits", async () => {
    const seller = aUser();
    const owner = await givenUser(under.service);
    const friend = await givenUser(under.service);
    const { pass } = await givenPass(under.service, seller, owner);
    const oldCode = await codeOf(under.service, pass.id, owner);
    const res = await eventually(async () => {
      const r = await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: friend.email.toUpperCase() });
      return r.status === 201 ? r : undefined; // user.registered of the friend may still be on its way
    });
    expect(res!.body).toEqual({ id: expect.any(String) });
    const newId = res!.body.id;
    expect(newId).not.toBe(pass.id);

    const refused = await api().post("/api/checkins").set("Cookie", seller.cookie).send({ code: oldCode });
    expect(refused.status).toBe(410);
    expect((await api().get(`/api/passes/${pass.id}/code`).set("Cookie", owner.cookie)).status).toBe(410);
    const ownerPasses = await api().get("/api/passes").set("Cookie", owner.cookie);
    expect(ownerPasses.body.find((p: { id: string }) => p.id === pass.id).status).toBe("transferred");
    const friendPasses = await api().get("/api/passes").set("Cookie", friend.cookie);
    expect(friendPasses.body.map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([[newId, "valid"]]);

    const admitted = await api()
      .post("/api/checkins")
      .set("Cookie", seller.cookie)
      .send({ code: await codeOf(under.service, newId, friend) });
    expect(admitted.status).toBe(201);
    const event = await under.recorder.waitFor("pass.transferred", (d) => d.id === pass.id);
    expect(event!.data).toEqual({ id: pass.id, ticketId: expect.any(String), fromUserId: owner.id, toUserId: friend.id, newPassId: newId });
  });

  test("When the email is unknown, is the owner's own, or the pass was used, then 400; someone else's pass is 404", async () => {
    const seller = aUser();
    const owner = await givenUser(under.service);
    const { pass } = await givenPass(under.service, seller, owner);
    await eventually(
      async () =>
        (await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: owner.email })).status === 400,
    );
    const self = await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: owner.email });
    expect(self.body.errors[0].message).toBe("You cannot transfer a pass to yourself");
    const unknown = await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: "nobody@example.com" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].message).toBe("No user with that email");
    const bad = await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: "not-an-email" });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe("email");
    const stranger = await givenUser(under.service);
    expect((await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", stranger.cookie).send({ email: owner.email })).status).toBe(
      404,
    );

    const friend = await givenUser(under.service);
    await api()
      .post("/api/checkins")
      .set("Cookie", seller.cookie)
      .send({ code: await codeOf(under.service, pass.id, owner) })
      .expect(201);
    const used = await eventually(async () => {
      const r = await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: friend.email });
      return r.body.errors?.[0].message === "No user with that email" ? undefined : r;
    });
    expect(used!.status).toBe(400);
    expect(used!.body.errors[0].message).toBe("This pass was used at the door");
  });
});

describe("offline scanners: GET /api/checkins/keys and POST /api/checkins/sync", () => {
  test("When two scanners admitted one pass offline, then the first upload is admitted and the second is reported conflicting, naming the first", async () => {
    const seller = aUser();
    const buyer = aUser();
    const { pass } = await givenPass(under.service, seller, buyer);
    const keys = await api().get("/api/checkins/keys").set("Cookie", seller.cookie);
    expect(keys.status).toBe(200);
    expect(keys.body.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    const code = await codeOf(under.service, pass.id, buyer);
    const scannedAt = new Date().toISOString();
    const a = await api()
      .post("/api/checkins/sync")
      .set("Cookie", seller.cookie)
      .send({ scanner: "gate-a", checkins: [{ code, scannedAt }] });
    expect(a.status).toBe(200);
    expect(a.body.results).toEqual([{ passId: pass.id, outcome: "admitted" }]);
    const b = await api()
      .post("/api/checkins/sync")
      .set("Cookie", seller.cookie)
      .send({ scanner: "gate-b", checkins: [{ code, scannedAt }] });
    expect(b.body.results).toEqual([
      { passId: pass.id, outcome: "conflicting", reason: "admitted first by scanner gate-a", admittedAt: scannedAt, admittedBy: "gate-a" },
    ]);
    // the same upload again (its answer was lost) is not a conflict with itself
    const again = await api()
      .post("/api/checkins/sync")
      .set("Cookie", seller.cookie)
      .send({ scanner: "gate-a", checkins: [{ code, scannedAt }] });
    expect(again.body.results).toEqual([{ passId: pass.id, outcome: "admitted" }]);
    const after = await api().get("/api/checkins/keys").set("Cookie", seller.cookie);
    expect(after.body.admitted).toContain(pass.id);
    const event = await under.recorder.waitFor("pass.checked_in", (d) => d.id === pass.id);
    expect(event!.data).toMatchObject({ scanner: "gate-a", offline: true });
  });

  test("When a scanner uploads a revoked pass, a forged code or a code not valid when scanned, then conflicting or refused, saying why", async () => {
    const seller = aUser();
    const owner = await givenUser(under.service);
    const friend = await givenUser(under.service);
    const { pass } = await givenPass(under.service, seller, owner);
    const code = await codeOf(under.service, pass.id, owner);
    await eventually(
      async () =>
        (await api().post(`/api/passes/${pass.id}/transfer`).set("Cookie", owner.cookie).send({ email: friend.email })).status === 201,
    );
    const keys = await api().get("/api/checkins/keys").set("Cookie", seller.cookie);
    expect(keys.body.revoked).toEqual([pass.id]);
    const now = Date.now();
    const res = await api()
      .post("/api/checkins/sync")
      .set("Cookie", seller.cookie)
      .send({
        scanner: "gate-c",
        checkins: [
          { code, scannedAt: new Date(now).toISOString() },
          { code: "AAAA", scannedAt: new Date(now).toISOString() },
          { code, scannedAt: new Date(now - 5 * 60_000).toISOString() },
        ],
      });
    expect(res.body.results).toEqual([
      { passId: pass.id, outcome: "conflicting", reason: "the pass had been transferred: its codes were revoked" },
      { passId: null, outcome: "refused", reason: "the code is not genuine" },
      { passId: pass.id, outcome: "refused", reason: "the code was not valid at scannedAt" },
    ]);
  });
});
