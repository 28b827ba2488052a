import { randomUUID } from "node:crypto";
import { Bus, durableName, openDatabase, streamOf, type Database, type EventData, type Subject } from "@ticketforge/common";
import { publish, silentLogger } from "@ticketforge/common/testing";
import { eventually, type EventRecorder } from "@ticketforge/nats";

/** A connection that plays the orders service in tests. */
export function connectPublisher(url: string): Promise<Bus> {
  return Bus.connect({ url, name: "orders-in-a-test", log: silentLogger() });
}

export type OrderCreated = EventData<"order.created">;

/** An order.created payload whose reservation window runs out `inMs` from now. */
export function newOrder(inMs: number): OrderCreated {
  return {
    id: randomUUID(),
    status: "created",
    userId: randomUUID(),
    expiresAt: new Date(Date.now() + inMs).toISOString(),
    version: 0,
    ticket: { id: randomUUID(), price: 2_000 },
  };
}

/** The event that ends an order (version 1, as the orders service publishes it). */
export function ended(order: OrderCreated, version = 1) {
  return { id: order.id, version, ticket: { id: order.ticket.id } };
}

export const dueAt = (order: OrderCreated) => new Date(order.expiresAt).getTime();

/**
 * Waits until the expiration service's consumer of `subject` has acked everything it was given:
 * nothing left to deliver, nothing waiting for an ack or a redelivery.
 */
export async function settled(bus: Bus, subject: Subject, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    const info = await bus.jsm.consumers.info(streamOf(subject), durableName("expiration", subject));
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }, timeoutMs);
}

/** Waits until the consumer of `subject` was given its one message and holds it back unacked, for a redelivery. */
export async function heldBack(bus: Bus, subject: Subject): Promise<void> {
  await eventually(async () => {
    const info = await bus.jsm.consumers.info(streamOf(subject), durableName("expiration", subject));
    return info.num_pending === 0 && info.num_ack_pending === 1 && info.num_redelivered === 0;
  });
}

/** Waits until the clock has passed `time` (the point of these tests is the passing of time). */
export async function until(time: number): Promise<void> {
  const ms = time - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

export const expirations = (recorder: EventRecorder, orderId: string) =>
  recorder.of("expiration.complete").filter((e) => e.data.orderId === orderId);

/**
 * Proves that none of these orders' timers fired: a sentinel order due after `latestDue` must
 * fire, and timers fire in due order, so any of theirs would have been published before it.
 */
export async function expectNoneFired(bus: Bus, recorder: EventRecorder, orderIds: string[], latestDue: number) {
  const sentinel = newOrder(Math.max(0, latestDue - Date.now()) + 300);
  await publish(bus, "order.created", sentinel);
  await recorder.waitFor("expiration.complete", (d) => d.orderId === sentinel.id);
  for (const id of orderIds) expect(expirations(recorder, id)).toEqual([]);
}

/** A second connection pool to the same database, as a second replica has, so SKIP LOCKED really decides between them. */
export async function secondConnection(database: Database): Promise<{ database: Database; close(): Promise<void> }> {
  const second = await openDatabase({ url: database.url, poolSize: 5 });
  return { database: second, close: () => second.close() };
}
