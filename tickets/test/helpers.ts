import { randomUUID } from "node:crypto";
import request from "supertest";
import { durableName, streamOf, type EventData, type Subject } from "@ticketforge/common";
import { signInCookie, testJwtKey, type TestService } from "@ticketforge/common/testing";
import { eventually } from "@ticketforge/nats";

/** A signed-in user of the tickets API. */
export function aUser() {
  return signInCookie(testJwtKey);
}

export async function createTicket(service: TestService, cookie: string, body: object = { title: "Concert", price: 20 }) {
  const res = await request(service.app).post("/api/tickets").set("Cookie", cookie).send(body);
  if (res.status !== 201) throw new Error(`creating a ticket: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; title: string; price: number; userId: string; version: number; orderId: string | null; status: string };
}

export async function getTicket(service: TestService, id: string) {
  return (await request(service.app).get(`/api/tickets/${id}`)).body;
}

/**
 * Publishes an event the way the orders service does: envelope {id, type, occurredAt, data} and
 * header Nats-Msg-Id = id. `msgId` differs from the envelope id only to simulate a redelivery
 * JetStream cannot de-duplicate (e.g. a replay), which the inbox must catch.
 */
export async function publish<S extends Subject>(
  service: TestService,
  subject: S,
  data: EventData<S>,
  options: { id?: string; msgId?: string } = {},
): Promise<{ id: string; seq: number }> {
  const id = options.id ?? randomUUID();
  const envelope = { id, type: subject, occurredAt: new Date().toISOString(), data };
  const ack = await service.ctx.bus.publish(subject, new TextEncoder().encode(JSON.stringify(envelope)), options.msgId ?? id);
  return { id, seq: ack.seq };
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

async function consumerInfo(service: TestService, subject: Subject) {
  return service.ctx.bus.jsm.consumers.info(streamOf(subject), durableName("tickets", subject));
}

/** Where the tickets consumer of a subject stands now (to tell redeliveries later). */
export async function deliveriesSoFar(service: TestService, subject: Subject): Promise<number> {
  return (await consumerInfo(service, subject)).delivered.consumer_seq;
}

/** Waits until the tickets service acknowledged the message (handled, or a duplicate with no effect). */
export async function waitAcked(service: TestService, subject: Subject, seq: number) {
  await eventually(async () => (await consumerInfo(service, subject)).ack_floor.stream_seq >= seq);
}

/**
 * Waits until the message was refused and delivered again: it came early or waits for another
 * event. `since` is deliveriesSoFar() taken before publishing it.
 */
export async function waitRedelivered(service: TestService, subject: Subject, seq: number, since: number) {
  await eventually(async () => {
    const info = await consumerInfo(service, subject);
    return info.delivered.consumer_seq >= since + 2 && info.ack_floor.stream_seq < seq;
  });
}
