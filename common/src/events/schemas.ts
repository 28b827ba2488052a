import { z } from "zod";
import type { Subject } from "./subjects";

/**
 * Payload of every event, checked when publishing and when consuming.
 * Money in events is integer cents (`price`, `amount`), never floating currency units.
 */
const id = z.string().min(1);
const version = z.number().int().min(0);
const cents = z.number().int().min(0);

export const ticketStatus = z.enum(["available", "reserved", "sold"]);
export const orderStatus = z.enum(["created", "awaiting:payment", "complete", "cancelled"]);

export const eventSchemas = {
  "ticket.created": z
    .object({ id, title: z.string(), price: cents, userId: id, version })
    .describe("A seller listed a ticket (version 0)."),
  "ticket.updated": z
    .object({
      id,
      title: z.string(),
      price: cents,
      userId: id,
      orderId: id.nullable(),
      status: ticketStatus,
      version,
    })
    .describe("A ticket changed: edited by its seller, reserved or released by an order, or sold."),
  "order.created": z
    .object({
      id,
      status: orderStatus,
      userId: id,
      expiresAt: z.iso.datetime({ offset: true }),
      version,
      ticket: z.object({
        id,
        price: cents,
        // added later: the messages published before lack it, and every consumer still reads them
        version: version
          .optional()
          .describe(
            "The ticket's version the order was priced at: tickets reserves the ticket only if its seller has not edited it since. " +
              "Absent from messages published before it was added; tickets then compares the price.",
          ),
      }),
    })
    .describe("A buyer reserved a ticket until expiresAt; the price is what payments will charge."),
  "order.cancelled": z
    .object({ id, version, ticket: z.object({ id }) })
    .describe("An order ended unpaid (its buyer cancelled it, or it expired); its ticket is free again."),
  "order.completed": z
    .object({
      id,
      version,
      // added later: the messages published before lack it, and every consumer still reads them
      userId: id
        .optional()
        .describe(
          "The buyer, to whom passes issues the pass: passes needs no order.created of its own. " +
            "Absent from messages published before it was added; passes then reads the buyer it recorded from order.created.",
        ),
      ticket: z.object({ id }),
    })
    .describe("An order was paid; its ticket is sold. Only orders decides a race between payment and expiry."),
  "ticket.reservation_refused": z
    .object({
      orderId: id,
      ticketId: id,
      reason: z.enum(["ticket changed"]).describe("ticket changed: its seller edited it after the version the order was priced at"),
      price: cents.describe("The ticket's price now"),
      version: version.describe("The ticket's version now"),
    })
    .describe("Tickets would not reserve the ticket for an order, and never will: orders cancels the order, saying why."),
  "expiration.complete": z.object({ orderId: id }).describe("An order's reservation window ran out (fired once per order)."),
  "payment.completed": z
    .object({ id, orderId: id, amount: cents, providerRef: z.string() })
    .describe("An order was charged; amount in cents, providerRef is the provider's charge id."),
  "payment.refunded": z
    .object({ id, orderId: id, amount: cents, providerRef: z.string() })
    .describe("A charge that raced its order's cancellation was given back (compensation)."),
  "user.registered": z
    .object({ id, email: z.string().min(3) })
    .describe("Someone signed up; the email is lower-cased and trimmed, as auth compares it."),
  "pass.issued": z
    .object({ id, ticketId: id, orderId: id, ownerId: id, transferredFrom: id.nullable() })
    .describe(
      "A pass for the door: for the buyer of a completed order, or for the recipient of a transfer (transferredFrom: the revoked pass).",
    ),
  "pass.transferred": z
    .object({ id, ticketId: id, fromUserId: id, toUserId: id, newPassId: id })
    .describe("A pass was given to another user: this pass is revoked from now on, newPassId replaces it."),
  "pass.checked_in": z
    .object({ id, ticketId: id, scanner: z.string(), admittedAt: z.iso.datetime({ offset: true }), offline: z.boolean() })
    .describe("A pass was admitted at the door (once); offline when a scanner uploaded it later."),
} satisfies Record<Subject, z.ZodType>;

export type EventData<S extends Subject> = z.infer<(typeof eventSchemas)[S]>;

export interface Envelope<S extends Subject = Subject> {
  id: string;
  type: S;
  occurredAt: string;
  data: EventData<S>;
}

/** What every message's body is: the event's id (also its Nats-Msg-Id), its subject, when, and its payload. */
export const envelopeShape = z.object({
  id: z.uuid(),
  type: z.string(),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

export class MalformedEventError extends Error {
  override name = "MalformedEventError";
}

/** Parses a message body into a typed envelope of the expected subject, or says exactly what is wrong. */
export function parseEnvelope<S extends Subject>(subject: S, body: unknown): Envelope<S> {
  const envelope = envelopeShape.safeParse(body);
  if (!envelope.success) throw new MalformedEventError(`bad envelope: ${describe(envelope.error)}`);
  if (envelope.data.type !== subject) {
    throw new MalformedEventError(`envelope type ${envelope.data.type} does not match subject ${subject}`);
  }
  const data = eventSchemas[subject].safeParse(envelope.data.data);
  if (!data.success) throw new MalformedEventError(`bad ${subject} payload: ${describe(data.error)}`);
  return { ...envelope.data, type: subject, data: data.data as EventData<S> };
}

/** Checks a payload before it is written to the outbox, so a bug fails the transaction, not a consumer. */
export function checkEventData<S extends Subject>(subject: S, data: EventData<S>): EventData<S> {
  const parsed = eventSchemas[subject].safeParse(data);
  if (!parsed.success) throw new MalformedEventError(`refusing to publish bad ${subject}: ${describe(parsed.error)}`);
  return parsed.data as EventData<S>;
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}
