import { z } from "zod";
import { priceInput } from "../money";
import { plainText } from "../http/text";
import { orderStatus, ticketStatus } from "../events/schemas";

/**
 * The HTTP API's shapes, once: the routes validate their input with these schemas, type their
 * answers with the inferred types, the OpenAPI document is generated from them, and the web app
 * and the end-to-end tests import the same types. This file imports zod only, so the browser
 * bundle of the web app can use it.
 */

// ---- errors -------------------------------------------------------------------------------

export const apiErrorItem = z.object({
  message: z.string(),
  field: z.string().optional().describe("Only on validation errors: the input field at fault (`price`, `ticket.id`)"),
});

export const apiErrors = z.object({ errors: z.array(apiErrorItem).min(1) });

// ---- users (auth) -------------------------------------------------------------------------

/** Sign-up takes an email (trimmed, compared in lower case) and a password of 8 to 128 characters. */
export const signupBody = z.object({
  email: z
    .string({ message: "Email must be a string" })
    .trim()
    .max(254, "Email must be at most 254 characters")
    .pipe(z.email({ message: "Email must be valid" }))
    .transform((e) => e.toLowerCase()),
  password: z
    .string({ message: "Password must be a string" })
    .min(8, "Password must be between 8 and 128 characters")
    .max(128, "Password must be between 8 and 128 characters"),
});

/** Sign-in accepts any password length a user may once have had; only sign-up enforces the rules. */
export const signinBody = signupBody.extend({
  password: z.string({ message: "Password must be a string" }).min(1, "You must supply a password").max(1024),
});

export const user = z.object({ id: z.string(), email: z.string() });

/** The session's user as every service sees it: the JWT's claims (issued at / expires, in seconds). */
export const sessionUser = user.extend({
  iat: z.number().int().describe("When the session started (seconds since the epoch)"),
  exp: z.number().int().describe("When the session ends (seconds since the epoch)"),
});

export const currentUserReply = z.object({ currentUser: sessionUser.nullable() });

export const signoutReply = z.object({});

// ---- tickets ------------------------------------------------------------------------------

/** Creating and editing a ticket take the same body. */
export const ticketInput = z.object(
  {
    title: plainText("Title must be a string", "Title must not contain control or text-direction characters")
      .trim()
      .min(1, "Title is required")
      .max(200, "Title must be at most 200 characters"),
    price: priceInput,
  },
  { message: "The body must be an object with a title and a price" },
);

export const maxTicketPage = 100;

// An empty parameter (`?q=`) means "not given"; a repeated one arrives as an array and is a 400.
const optionalParam = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

const limitMessage = `Limit must be a whole number between 1 and ${maxTicketPage}`;

export const listTicketsQuery = z.object({
  limit: optionalParam(
    z
      .string({ message: limitMessage })
      .regex(/^\d{1,3}$/, limitMessage)
      .transform(Number)
      .refine((n) => n >= 1 && n <= maxTicketPage, limitMessage),
  ).describe(`Tickets per page, 1 to ${maxTicketPage} (default 20)`),
  cursor: optionalParam(z.string({ message: "Cursor is not valid" }).regex(/^[A-Za-z0-9_-]{1,200}$/, "Cursor is not valid")).describe(
    "The X-Next-Cursor header of the previous page (opaque)",
  ),
  q: optionalParam(
    plainText("Search must be a string", "Search must not contain control characters")
      .trim()
      .max(200, "Search must be at most 200 characters"),
  ).describe("Text the title contains (case-insensitive)"),
  mine: optionalParam(z.enum(["true", "false"], { message: "Mine must be true or false" })).describe(
    "true: the signed-in seller's own tickets, whatever their status",
  ),
});

/** A ticket as the API shows it: the price in currency units (20.5), never cents. */
export const ticket = z.object({
  id: z.string(),
  title: z.string(),
  price: z.number().describe("In currency units, e.g. 20.5"),
  userId: z.string().optional().describe("The seller: shown to the seller only"),
  version: z.number().int().min(0).describe("Raised by every change; events about the ticket carry it"),
  orderId: z.string().nullable().optional().describe("The order holding the ticket while it is reserved or sold: shown to the seller only"),
  status: ticketStatus,
});

export const ticketList = z.array(ticket);

// ---- orders -------------------------------------------------------------------------------

export const createOrderBody = z.object({
  ticketId: z.string({ message: "Ticket id must be a string" }).trim().min(1, "Ticket id must be provided"),
});

export const order = z.object({
  id: z.string(),
  userId: z.string(),
  status: orderStatus,
  expiresAt: z.iso.datetime().describe("When the order is cancelled unless paid"),
  version: z.number().int().min(0).describe("Raised by every change; events about the order carry it"),
  ticket: z.object({ id: z.string(), title: z.string(), price: z.number().describe("In currency units") }),
  refund: z
    .object({ amount: z.number(), refundedAt: z.iso.datetime() })
    .nullable()
    .describe("Set when a payment landed after the order was cancelled and was given back"),
});

export const orderList = z.array(order);

// ---- payments -----------------------------------------------------------------------------

export const paymentBody = z.object({
  orderId: z.string({ message: "orderId must be a string" }).trim().min(1, "You must supply an orderId"),
  token: z
    .string({ message: "token must be a string" })
    .trim()
    .min(1, "You must supply a payment token")
    .max(255, "token must be at most 255 characters")
    .regex(/^[\x21-\x7e]+$/, "token must be printable ASCII"),
});

export const payment = z.object({ id: z.string(), orderId: z.string() });

/** Ticket and order states are the same words in the API and in events. */
export { orderStatus, ticketStatus };

// ---- types --------------------------------------------------------------------------------

export type ApiErrorItem = z.infer<typeof apiErrorItem>;
export type User = z.infer<typeof user>;
export type SessionUser = z.infer<typeof sessionUser>;
export type CurrentUserReply = z.infer<typeof currentUserReply>;
export type TicketStatus = z.infer<typeof ticketStatus>;
export type Ticket = z.infer<typeof ticket>;
export type OrderStatus = z.infer<typeof orderStatus>;
export type Order = z.infer<typeof order>;
export type Payment = z.infer<typeof payment>;
