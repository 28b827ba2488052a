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

/** An account's email: trimmed, at most 254 characters, compared in lower case. */
const email = z
  .string({ message: "Email must be a string" })
  .trim()
  .max(254, "Email must be at most 254 characters")
  .pipe(z.email({ message: "Email must be valid" }))
  .transform((e) => e.toLowerCase());

/** Sign-up takes an email and a password of 8 to 128 characters. */
export const signupBody = z.object({
  email,
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

export const cancelReason = z
  .enum(["buyer", "expired", "ticket changed"])
  .describe(
    "buyer: its buyer cancelled it; expired: its window ran out unpaid; ticket changed: the seller edited the ticket after the order was priced, so it was never reserved (nothing is charged, a payment already taken is refunded)",
  );

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
  cancellation: z
    .object({
      reason: cancelReason,
      ticketPrice: z
        .number()
        .nullable()
        .describe("`ticket changed`: the ticket's price when its reservation was refused, in currency units; otherwise null"),
    })
    .nullable()
    .describe("Why a cancelled order ended; null for an order that is not cancelled, and for one cancelled before reasons were kept"),
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

// ---- passes (the door) ----------------------------------------------------------------------

export const passStatus = z.enum(["valid", "used", "transferred"]);

/** A pass as its owner sees it: never a code that works at the door (that is /code, rotating). */
export const pass = z.object({
  id: z.string(),
  orderId: z.string(),
  ticket: z.object({ id: z.string(), title: z.string() }),
  status: passStatus.describe("valid: not used yet; used: admitted at the door; transferred: given away, revoked"),
});

export const passList = z.array(pass);

export const passCode = z.object({
  code: z.string().describe("Signed (Ed25519) over the pass id and the current 30-second window; show it as a QR code"),
  expiresAt: z.iso.datetime().describe("When the next window starts: fetch the code again then"),
});

export const transferPassBody = z.object({ email });

export const transferredPass = z.object({ id: z.string().describe("The recipient's new pass") });

const passCodeInput = z
  .string({ message: "Code must be a string" })
  .trim()
  .min(1, "Code must be provided")
  .max(512, "Code must be at most 512 characters");

const scannerInput = plainText("Scanner must be a string", "Scanner must not contain control characters")
  .trim()
  .min(1, "Scanner must not be empty")
  .max(100, "Scanner must be at most 100 characters");

export const checkinBody = z.object({
  code: passCodeInput,
  scanner: scannerInput.optional().describe("Which door or device scanned it (default `online`)"),
});

export const checkin = z.object({
  passId: z.string(),
  ticket: z.object({ id: z.string(), title: z.string() }),
  scanner: z.string(),
  admittedAt: z.iso.datetime(),
});

export const scannerKeys = z.object({
  keys: z
    .array(z.object({ kid: z.string(), kty: z.literal("OKP"), crv: z.literal("Ed25519"), alg: z.literal("EdDSA"), x: z.string() }))
    .describe("Public keys (JWK) that sign pass codes"),
  windowSeconds: z.number().int().describe("A code covers one window; accept the current one and one either side"),
  revoked: z.array(z.string()).describe("Passes of the seller's tickets that were transferred: refuse their codes"),
  admitted: z.array(z.string()).describe("Passes of the seller's tickets already admitted"),
  asOf: z.iso.datetime(),
});

export const syncCheckinsBody = z.object({
  scanner: scannerInput,
  checkins: z
    .array(
      z.object({
        code: passCodeInput.describe("The code the scanner accepted"),
        scannedAt: z.iso.datetime({ offset: true, message: "scannedAt must be an ISO 8601 time" }),
      }),
      { message: "Checkins must be a list" },
    )
    .max(1000, "At most 1000 check-ins per sync"),
});

export const syncOutcome = z.object({
  passId: z.string().nullable().describe("null when the code could not be read"),
  outcome: z.enum(["admitted", "conflicting", "refused"]),
  reason: z.string().optional().describe("Why it conflicts or was refused"),
  admittedAt: z.iso.datetime().optional().describe("conflicting: when the pass was admitted first"),
  admittedBy: z.string().optional().describe("conflicting: the scanner that admitted it first"),
});

export const syncCheckinsReply = z.object({ results: z.array(syncOutcome) });

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
export type CancelReason = z.infer<typeof cancelReason>;
export type Payment = z.infer<typeof payment>;
export type Pass = z.infer<typeof pass>;
export type PassCode = z.infer<typeof passCode>;
export type Checkin = z.infer<typeof checkin>;
export type ScannerKeys = z.infer<typeof scannerKeys>;
export type SyncOutcome = z.infer<typeof syncOutcome>;
