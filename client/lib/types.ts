// Shapes of the API's JSON (DESIGN.md §3).

export type TicketStatus = "available" | "reserved" | "sold";

export interface Ticket {
  id: string;
  title: string;
  /** In currency units, e.g. 20.5. */
  price: number;
  /** Only the seller is shown who sells the ticket and which order holds it. */
  userId?: string;
  version: number;
  orderId?: string | null;
  status: TicketStatus;
}

export type OrderStatus = "created" | "awaiting:payment" | "complete" | "cancelled";

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  expiresAt: string;
  version: number;
  ticket: { id: string; title: string; price: number };
  /** Set when a payment landed after the order was cancelled and was given back. */
  refund?: { amount: number; refundedAt: string } | null;
}

export interface CurrentUser {
  id: string;
  email: string;
}

export interface ApiErrorItem {
  message: string;
  field?: string;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T; headers: Headers }
  | { ok: false; status: number; errors: ApiErrorItem[] };
