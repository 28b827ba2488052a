import { randomUUID } from "node:crypto";
import request from "supertest";
import type { EventData, Subject } from "@ticketforge/common";
import {
  deliveriesSoFar,
  publishAs,
  signInCookie,
  testJwtKey,
  waitAcked,
  waitRedelivered,
  type TestService,
} from "@ticketforge/common/testing";

/** A signed-in user of the tickets API. */
export function aUser() {
  return signInCookie(testJwtKey);
}

export async function createTicket(service: TestService, cookie: string, body: object = { title: "Concert", price: 20 }) {
  const res = await request(service.app).post("/api/tickets").set("Cookie", cookie).send(body);
  if (res.status !== 201) throw new Error(`creating a ticket: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; title: string; price: number; userId?: string; version: number; orderId?: string | null; status: string };
}

/** A ticket as `cookie`'s user sees it (anonymously by default: without its seller and order). */
export async function getTicket(service: TestService, id: string, cookie = "") {
  return (await request(service.app).get(`/api/tickets/${id}`).set("Cookie", cookie)).body;
}

/**
 * Publishes an event the way the orders service does: envelope {id, type, occurredAt, data} and
 * header Nats-Msg-Id = id. `msgId` differs from the envelope id only to simulate a redelivery
 * JetStream cannot de-duplicate (e.g. a replay), which the inbox must catch.
 */
export function publish<S extends Subject>(
  service: TestService,
  subject: S,
  data: EventData<S>,
  options: { id?: string; msgId?: string } = {},
) {
  return publishAs(service.ctx.bus, subject, data, options);
}

/** The order events of one order, as the orders service publishes them. */
export function anOrder(ticketId: string, id: string = randomUUID()) {
  return {
    id,
    created: (version = 0): EventData<"order.created"> => ({
      id,
      status: "created",
      userId: randomUUID(),
      expiresAt: new Date(Date.now() + 900_000).toISOString(),
      version,
      ticket: { id: ticketId, price: 2000 },
    }),
    cancelled: (version = 1): EventData<"order.cancelled"> => ({ id, version, ticket: { id: ticketId } }),
    completed: (version = 1): EventData<"order.completed"> => ({ id, version, ticket: { id: ticketId } }),
  };
}

export { deliveriesSoFar, waitAcked, waitRedelivered };
