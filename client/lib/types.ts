// The API's shapes (Ticket, Order, User, …) come from `@ticketforge/common/api`, the schemas the
// services validate with; this file holds only the web app's own wrapper around a call.
import type { ApiErrorItem } from "@ticketforge/common/api";

export type ApiResult<T> = { ok: true; status: number; data: T; headers: Headers } | { ok: false; status: number; errors: ApiErrorItem[] };
