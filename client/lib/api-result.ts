import type { ApiErrorItem } from "@ticketforge/common/api";
import type { ApiResult } from "./types";

export const UNREACHABLE_MESSAGE = "We could not reach TicketForge. Check your connection and try again.";

/** Turns any HTTP response into an ApiResult whose errors are always readable sentences. */
export async function toApiResult<T>(res: Response): Promise<ApiResult<T>> {
  const body = await readJson(res);
  if (res.ok) return { ok: true, status: res.status, data: body as T, headers: res.headers };
  return { ok: false, status: res.status, errors: errorsFrom(res, body) };
}

export function unreachable<T>(): ApiResult<T> {
  return { ok: false, status: 0, errors: [{ message: UNREACHABLE_MESSAGE }] };
}

async function readJson(res: Response): Promise<unknown> {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorsFrom(res: Response, body: unknown): ApiErrorItem[] {
  if (res.status === 429) {
    const seconds = Number(res.headers.get("retry-after"));
    const wait = Number.isFinite(seconds) && seconds > 0 ? `in ${seconds} seconds` : "in a minute";
    return [{ message: `Too many attempts. Please try again ${wait}.` }];
  }
  const items = apiErrors(body);
  // A 503 from a service is written for people ("try again"); any other 5xx body may carry
  // internals, and the person only needs to know it was not their fault.
  if (res.status === 503 && items.length > 0) return items;
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return [{ message: "TicketForge is busy or restarting. Please try again in a moment." }];
  }
  if (res.status >= 500) return [{ message: "Something went wrong on our side. Please try again in a moment." }];
  if (items.length > 0) return items;
  if (res.status === 401) return [{ message: "Please sign in to continue." }];
  if (res.status === 404) return [{ message: "We could not find that." }];
  return [{ message: "That did not work. Please check and try again." }];
}

function apiErrors(body: unknown): ApiErrorItem[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is ApiErrorItem => typeof e?.message === "string")
    .map((e) => (typeof e.field === "string" ? { message: e.message, field: e.field } : { message: e.message }));
}

/** Splits API errors into per-field messages and form-level messages. */
export function splitErrors(errors: ApiErrorItem[], fields: readonly string[]) {
  const fieldErrors: Record<string, string> = {};
  const formErrors: string[] = [];
  for (const e of errors) {
    if (e.field && fields.includes(e.field) && !fieldErrors[e.field]) fieldErrors[e.field] = e.message;
    else formErrors.push(e.message);
  }
  return { fieldErrors, formErrors };
}
