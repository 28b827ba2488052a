import { randomUUID } from "node:crypto";
import type { Bus } from "../bus/bus";
import type { EventData } from "../events/schemas";
import type { Subject } from "../events/subjects";
import { publishAs } from "./events";
import { signInCookie } from "./session";
import { testJwtKey } from "./keys";

/** A signed-in user: their id and the cookie that makes requests as them. */
export const aUser = () => signInCookie(testJwtKey);

let tickets = 0;

/** A ticket as ticket.created announces it (price in cents). */
export function aTicket(overrides: Partial<EventData<"ticket.created">> = {}): EventData<"ticket.created"> {
  return { id: randomUUID(), title: `Concert #${++tickets}`, price: 2050, userId: randomUUID(), version: 0, ...overrides };
}

/** The events the orders service publishes about one order, version by version. */
export function anOrder(
  options: {
    id?: string;
    ticketId?: string;
    buyerId?: string;
    priceCents?: number;
    /** The ticket's version the order was priced at (default 0, a ticket never changed); null: an order.created of before it was sent. */
    ticketVersion?: number | null;
    expiresInMs?: number;
  } = {},
) {
  const id = options.id ?? randomUUID();
  const ticket = { id: options.ticketId ?? randomUUID() };
  const userId = options.buyerId ?? randomUUID();
  return {
    id,
    ticket,
    created: (version = 0): EventData<"order.created"> => ({
      id,
      status: "created",
      userId,
      expiresAt: new Date(Date.now() + (options.expiresInMs ?? 900_000)).toISOString(),
      version,
      ticket: {
        ...ticket,
        price: options.priceCents ?? 2050,
        ...(options.ticketVersion === null ? {} : { version: options.ticketVersion ?? 0 }),
      },
    }),
    cancelled: (version = 1): EventData<"order.cancelled"> => ({ id, version, ticket }),
    completed: (version = 1): EventData<"order.completed"> => ({ id, version, userId, ticket }),
  };
}

/**
 * Publishes an event as the service that owns its subject would, to a service under test (or a
 * bus): envelope {id, type, occurredAt, data}, Nats-Msg-Id = id. A `msgId` other than the id
 * simulates a redelivery JetStream cannot de-duplicate (a replay), which the inbox must catch.
 */
export async function publish<S extends Subject>(
  to: { ctx: { bus: Bus } } | Bus,
  subject: S,
  data: EventData<S>,
  options: { id?: string; msgId?: string } = {},
): Promise<{ id: string; seq: number; occurredAt: string }> {
  const bus = "ctx" in to ? to.ctx.bus : to;
  const occurredAt = new Date().toISOString();
  const { id, seq } = await publishAs(bus, subject, data, { ...options, occurredAt });
  return { id, seq, occurredAt };
}
