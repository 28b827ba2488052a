import type { z } from "zod";
import {
  apiErrors,
  checkin,
  checkinBody,
  passCode,
  passList,
  scannerKeys,
  syncCheckinsBody,
  syncCheckinsReply,
  transferPassBody,
  transferredPass,
  createOrderBody,
  currentUserReply,
  listTicketsQuery,
  order,
  orderList,
  payment,
  paymentBody,
  signinBody,
  signoutReply,
  signupBody,
  ticket,
  ticketInput,
  ticketList,
  user,
} from "./schemas";

export type Method = "get" | "post" | "put" | "delete";

export interface ApiResponse {
  description: string;
  /** The JSON body; none for a 204. */
  schema?: z.ZodType;
  headers?: Record<string, { description: string; required?: boolean }>;
}

/** One endpoint of the public API: what it takes, what it answers, which service serves it. */
export interface ApiOperation {
  method: Method;
  /** OpenAPI path template, e.g. `/api/tickets/{id}`. */
  path: string;
  service: "auth" | "tickets" | "orders" | "payments" | "passes";
  summary: string;
  description?: string;
  /** true: 401 without a session; "optional": a session changes the answer. */
  session?: true | "optional";
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Takes an `Idempotency-Key` header (the `idempotent` middleware): a retry gets the first answer. */
  idempotent?: true;
  responses: Record<number, ApiResponse>;
}

const errors = (description: string): ApiResponse => ({ schema: apiErrors, description });
const invalid = errors("Invalid input: one error per field, each naming it (`field`), or a business rule refused");
const signedOut = errors("Not signed in, or not the owner");
const setsCookie = {
  "Set-Cookie": { description: "The session cookie (`session`; `__Host-session` over HTTPS; HttpOnly) holding a signed JWT" },
};
const retryAfter = { "Retry-After": { description: "Seconds until another attempt is counted", required: true } };
export const retryLater = { "Retry-After": { description: "Seconds to wait before trying again", required: true } };

/**
 * Every public endpoint. A test sends every response the route tests receive through this
 * table's OpenAPI document, so an answer that is not described here fails a test.
 */
export const apiOperations: ApiOperation[] = [
  {
    method: "post",
    path: "/api/users/signup",
    service: "auth",
    summary: "Sign up",
    description: "Creates an account and signs it in. Emails are compared case-insensitively. Rate-limited per client address.",
    body: signupBody,
    responses: {
      201: { schema: user, description: "Signed up and signed in", headers: setsCookie },
      400: errors("Invalid email, a password shorter than 8 or longer than 128 characters, or `Email in use`"),
      429: { ...errors("Too many attempts from this address"), headers: retryAfter },
      503: { ...errors("Too many sign-ins and sign-ups waiting for a password hash at once"), headers: retryAfter },
    },
  },
  {
    method: "post",
    path: "/api/users/signin",
    service: "auth",
    summary: "Sign in",
    description: "Rate-limited per client address.",
    body: signinBody,
    responses: {
      200: { schema: user, description: "Signed in", headers: setsCookie },
      400: errors("Invalid input, or `Invalid credentials`"),
      429: { ...errors("Too many attempts from this address"), headers: retryAfter },
      503: { ...errors("Too many sign-ins and sign-ups waiting for a password hash at once"), headers: retryAfter },
    },
  },
  {
    method: "post",
    path: "/api/users/signout",
    service: "auth",
    summary: "Sign out",
    responses: {
      200: { schema: signoutReply, description: "The session is revoked on every service and the cookie cleared", headers: setsCookie },
      403: errors("A browser marked it as coming from another site (Sec-Fetch-Site, or an Origin that is not this host)"),
      503: { ...errors("The sign-out could not be recorded for every service; the session is unchanged, try again"), headers: retryAfter },
    },
  },
  {
    method: "get",
    path: "/api/users/currentuser",
    service: "auth",
    summary: "The signed-in user",
    session: "optional",
    responses: { 200: { schema: currentUserReply, description: "The session's user, or null when signed out" } },
  },
  {
    method: "post",
    path: "/api/tickets",
    service: "tickets",
    summary: "Sell a ticket",
    description: "Title 1–200 characters after trimming; price in currency units, > 0, at most 2 decimals, at most 1,000,000.",
    session: true,
    body: ticketInput,
    responses: { 201: { schema: ticket, description: "The new ticket, available" }, 400: invalid, 401: signedOut },
  },
  {
    method: "get",
    path: "/api/tickets",
    service: "tickets",
    summary: "Tickets for sale",
    description:
      "Tickets that can be bought (neither reserved nor sold), newest first, one page at a time; `q` searches titles. " +
      "With `mine=true`, the signed-in seller's own tickets whatever their status. " +
      "Pages of the public listing without `q` may come from the service's memory, which any change to tickets empties at once; " +
      "`Cache-Control: no-cache` asks for the database.",
    session: "optional",
    query: listTicketsQuery,
    responses: {
      200: {
        schema: ticketList,
        description: "One page of tickets",
        headers: { "X-Next-Cursor": { description: "The `cursor` of the next page; absent on the last page" } },
      },
      400: invalid,
      401: errors("`mine=true` without a session"),
      429: { ...errors("Too many title searches (`q`) from this client network in a minute"), headers: retryAfter },
    },
  },
  {
    method: "get",
    path: "/api/tickets/{id}",
    service: "tickets",
    summary: "One ticket",
    responses: { 200: { schema: ticket, description: "The ticket" }, 404: errors("No such ticket (also for a malformed id)") },
  },
  {
    method: "put",
    path: "/api/tickets/{id}",
    service: "tickets",
    summary: "Edit a ticket",
    description: "Only its seller may edit it, and only while it is available.",
    session: true,
    body: ticketInput,
    responses: {
      200: { schema: ticket, description: "The edited ticket, its version one higher" },
      400: errors("Invalid input, or `Cannot edit a reserved ticket` while reserved or sold"),
      401: signedOut,
      404: errors("No such ticket"),
    },
  },
  {
    method: "post",
    path: "/api/orders",
    service: "orders",
    summary: "Reserve a ticket",
    idempotent: true,
    description: "The order holds the ticket until it is paid or its window (15 minutes by default) runs out.",
    session: true,
    body: createOrderBody,
    responses: {
      201: { schema: order, description: "The order, `created`" },
      400: errors("Invalid input, `Ticket is already reserved`, the buyer's own ticket, or too many unpaid orders"),
      401: signedOut,
      404: errors("No such ticket"),
      429: { ...errors("Too many orders from this buyer in a minute"), headers: retryAfter },
    },
  },
  {
    method: "get",
    path: "/api/orders",
    service: "orders",
    summary: "The buyer's orders",
    session: true,
    responses: { 200: { schema: orderList, description: "Every order of the signed-in buyer, newest first" }, 401: signedOut },
  },
  {
    method: "get",
    path: "/api/orders/{id}",
    service: "orders",
    summary: "One order",
    session: true,
    responses: {
      200: { schema: order, description: "The order" },
      401: signedOut,
      404: errors("No such order (also another buyer's, and a malformed id), so ids cannot be probed"),
    },
  },
  {
    method: "delete",
    path: "/api/orders/{id}",
    service: "orders",
    summary: "Cancel an order",
    description: "Cancelling an already cancelled order succeeds again; a paid order is never cancelled.",
    session: true,
    responses: {
      204: { description: "The order is cancelled and its ticket available again" },
      400: errors("`Cannot cancel a completed order`"),
      401: signedOut,
      404: errors("No such order (also another buyer's)"),
    },
  },
  {
    method: "post",
    path: "/api/payments",
    service: "payments",
    summary: "Pay an order",
    idempotent: true,
    description:
      "Charges the order's price as the payments service knows it (never an amount from the request); paying twice never " +
      "charges twice. The sandbox provider accepts the test tokens Stripe documents: `tok_visa` succeeds, " +
      "`tok_chargeDeclined` is declined.",
    session: true,
    body: paymentBody,
    responses: {
      201: { schema: payment, description: "Paid; the order completes shortly after" },
      400: errors(
        "Invalid input or token, a declined card (the provider's reason), an order cancelled or already paid, a price below the provider's minimum",
      ),
      401: signedOut,
      404: errors("No such order (also another buyer's)"),
      429: {
        ...errors("Too many declined cards for this order or this buyer, or too many payment attempts from this network"),
        headers: retryAfter,
      },
      503: { ...errors("The payment provider or the database cannot be reached; nothing was charged"), headers: retryLater },
    },
  },
  {
    method: "get",
    path: "/api/passes",
    service: "passes",
    summary: "The signed-in user's passes",
    description: "One pass per ticket bought (issued when the order completes) or received by transfer, newest first.",
    session: true,
    responses: { 200: { schema: passList, description: "The passes, newest first" }, 401: signedOut },
  },
  {
    method: "get",
    path: "/api/passes/{id}/code",
    service: "passes",
    summary: "The pass's current door code",
    description: "Signed over the pass id and the current 30-second window: a screenshot is worthless a minute later.",
    session: true,
    responses: {
      200: { schema: passCode, description: "The code and when it rotates" },
      401: signedOut,
      404: errors("No such pass (also another user's)"),
      410: errors("The pass was transferred: it has no code any more"),
    },
  },
  {
    method: "post",
    path: "/api/passes/{id}/transfer",
    service: "passes",
    summary: "Give a pass to another user",
    description: "The recipient gets a new pass; this one is revoked at once, online and at every scanner once it syncs.",
    session: true,
    body: transferPassBody,
    responses: {
      201: { schema: transferredPass, description: "The recipient's new pass" },
      400: errors("Invalid email, no user with that email, yourself, or a pass already used or transferred"),
      401: signedOut,
      404: errors("No such pass (also another user's)"),
    },
  },
  {
    method: "post",
    path: "/api/checkins",
    service: "passes",
    summary: "Check a pass in at the door",
    description: "By the ticket's seller. Each pass enters once.",
    session: true,
    body: checkinBody,
    responses: {
      201: { schema: checkin, description: "Admitted" },
      400: errors("Invalid input, a forged code or an expired one"),
      401: signedOut,
      403: errors("Not the seller of this pass's ticket"),
      409: errors("Already admitted: the message says when and by which scanner"),
      410: errors("The pass was transferred: its codes are revoked"),
    },
  },
  {
    method: "get",
    path: "/api/checkins/keys",
    service: "passes",
    summary: "What an offline scanner needs",
    description: "The public keys that sign codes, and the seller's revoked and admitted passes.",
    session: true,
    responses: { 200: { schema: scannerKeys, description: "Keys and lists" }, 401: signedOut },
  },
  {
    method: "post",
    path: "/api/checkins/sync",
    service: "passes",
    summary: "Upload a scanner's offline check-ins",
    description:
      "Each is answered `admitted`, `conflicting` (the pass was admitted elsewhere first, or was revoked: reported to the seller, never merged) " +
      "or `refused` (a forged code, one not valid at scannedAt, or not the seller's ticket).",
    session: true,
    body: syncCheckinsBody,
    responses: {
      200: { schema: syncCheckinsReply, description: "One outcome per check-in, in order" },
      400: invalid,
      401: signedOut,
    },
  },
];
