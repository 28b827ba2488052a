// Browser-side calls: relative URLs, same origin as the page (the gateway or the ingress).
import { toApiResult, unreachable } from "./api-result";
import type { ApiResult } from "./types";

export interface ApiOptions {
  /**
   * One key per purchase attempt (a click on Buy or Pay): the services do a keyed request once, so
   * the request is sent again, with the same key, when the connection was lost or the service was
   * restarting, and a retry never makes a second order or charge.
   */
  idempotencyKey?: string;
}

/** Answers after which a keyed request is sent again: no answer, a restarting service, the first copy still at work. */
const retried = new Set([0, 409, 502, 503, 504]);
const keyedAttempts = 3;

export async function api<T>(method: string, path: string, body?: unknown, options: ApiOptions = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> =
    body === undefined ? { accept: "application/json" } : { "content-type": "application/json", accept: "application/json" };
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  for (let attempt = 1; ; attempt++) {
    let res: Response | undefined;
    try {
      res = await fetch(path, {
        method,
        credentials: "same-origin",
        cache: "no-store",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      res = undefined;
    }
    const status = res?.status ?? 0;
    if (!options.idempotencyKey || attempt >= keyedAttempts || !retried.has(status)) return res ? toApiResult<T>(res) : unreachable();
    // what the service asks, between a fifth of a second and two seconds
    const asked = Number(res?.headers.get("retry-after") ?? 1);
    await new Promise((r) => setTimeout(r, Math.min(Math.max(Number.isFinite(asked) ? asked : 1, 0.2), 2) * 1000));
  }
}

/** A new Idempotency-Key (random, 128 bits). `crypto.randomUUID` exists on secure pages only (https, localhost). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
