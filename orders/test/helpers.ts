import request from "supertest";
import { durableName, streamOf, type EventData, type Subject } from "@ticketforge/common";
import { type TestService, aUser, aTicket, publish } from "@ticketforge/common/testing";
import { eventually, type EventRecorder } from "@ticketforge/nats";

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

/** A ticket put on sale by `sellerId`, known to the orders service (ticket.created applied). */
export async function givenTicket(service: TestService, overrides: Partial<EventData<"ticket.created">> = {}) {
  const ticket = aTicket(overrides);
  const { seq } = await publish(service, "ticket.created", ticket);
  await acked(service, "ticket.created", seq);
  return ticket;
}

/** An order placed through the API by `buyer` for a ticket this service knows; not reserved yet. */
export async function placedOrder(service: TestService, ticket: EventData<"ticket.created">, buyer = aUser()) {
  const res = await request(service.app).post("/api/orders").set("Cookie", buyer.cookie).send({ ticketId: ticket.id });
  if (res.status !== 201) throw new Error(`order not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; version: number; status: string };
}

/** Tickets reserving the ticket for the order, as its ticket.updated says, applied to the replica. */
export async function reservedFor(
  service: TestService,
  ticket: EventData<"ticket.created">,
  orderId: string,
  version = ticket.version + 1,
) {
  const { seq } = await publish(service, "ticket.updated", { ...ticket, orderId, status: "reserved", version });
  await acked(service, "ticket.updated", seq);
}

/**
 * An order placed through the API by a new buyer (or the given one), whose ticket tickets has
 * reserved for it (ticket.updated applied): a payment completes it.
 */
export async function givenOrder(service: TestService, buyer = aUser(), ticketOverrides = {}) {
  const ticket = await givenTicket(service, ticketOverrides);
  const order = await placedOrder(service, ticket, buyer);
  await reservedFor(service, ticket, order.id);
  return { ticket, buyer, order };
}
