import { randomUUID } from "node:crypto";
import request from "supertest";
import { durableName, streamOf, type EventData, type Subject } from "@ticketforge/common";
import { publishAs, signInCookie, testJwtKey, type TestService } from "@ticketforge/common/testing";
import { eventually, type EventRecorder } from "@ticketforge/nats";

/** A signed-in user: their id and the cookie that makes requests as them. */
export const aUser = () => signInCookie(testJwtKey);

/**
 * Publishes an event as another service would: a proper envelope, with Nats-Msg-Id = its id.
 * Returns the stream sequence, to wait until this service has acked it.
 */
export async function publish<S extends Subject>(service: TestService, subject: S, data: EventData<S>, id = randomUUID()) {
  const occurredAt = new Date().toISOString();
  const { seq } = await publishAs(service.ctx.bus, subject, data, { id, occurredAt });
  return { id, seq, occurredAt };
}

async function consumerInfo(service: TestService, subject: Subject) {
  return service.ctx.bus.jsm.consumers.info(streamOf(subject), durableName("orders", subject));
}

/** Waits until this service has acked the event at `seq` (handled, or found to have no effect). */
export async function acked(service: TestService, subject: Subject, seq: number) {
  await eventually(async () => (await consumerInfo(service, subject)).ack_floor.stream_seq >= seq);
}

/** Waits until an event was delivered, refused (nak) and delivered again: it waits for another one. */
export async function redelivered(service: TestService, subject: Subject, seq: number) {
  await eventually(async () => {
    const info = await consumerInfo(service, subject);
    return info.ack_floor.stream_seq < seq && info.num_redelivered > 0;
  });
}

/**
 * Waits until every event this service wrote has left its outbox and the recorder has read the
 * whole ORDERS stream, so that counting the recorder's events also proves what was NOT published.
 */
export async function settled(service: TestService, recorder: EventRecorder) {
  await eventually(async () => (await service.ctx.relay.pending()) === 0);
  const { last_seq } = (await service.ctx.bus.jsm.streams.info("ORDERS")).state;
  await eventually(() => last_seq === 0 || recorder.events.some((e) => e.subject.startsWith("order.") && e.seq >= last_seq));
}

let counter = 0;

/** A ticket put on sale by `sellerId`, known to the orders service (ticket.created applied). */
export async function givenTicket(service: TestService, overrides: Partial<EventData<"ticket.created">> = {}) {
  const ticket = { id: randomUUID(), title: `Concert #${++counter}`, price: 2050, userId: randomUUID(), version: 0, ...overrides };
  const { seq } = await publish(service, "ticket.created", ticket);
  await acked(service, "ticket.created", seq);
  return ticket;
}

/** An order placed through the API by a new buyer (or the given one). */
export async function givenOrder(service: TestService, buyer = aUser(), ticketOverrides = {}) {
  const ticket = await givenTicket(service, ticketOverrides);
  const res = await request(service.app).post("/api/orders").set("Cookie", buyer.cookie).send({ ticketId: ticket.id });
  if (res.status !== 201) throw new Error(`order not created: ${res.status} ${JSON.stringify(res.body)}`);
  return { ticket, buyer, order: res.body as { id: string; version: number; status: string } };
}
