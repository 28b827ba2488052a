// Server-side calls made while rendering: they carry the visitor's cookie to the services.
import { headers } from "next/headers";
import { cache } from "react";
import { toApiResult, unreachable } from "./api-result";
import type { CurrentUserReply, SessionUser } from "@ticketforge/common/api";
import type { ApiResult } from "./types";

// In Kubernetes each prefix can go straight to its service instead of through the ingress.
const PREFIX_OVERRIDES: ReadonlyArray<[prefix: string, envName: string]> = [
  ["/api/users", "AUTH_URL"],
  ["/api/tickets", "TICKETS_URL"],
  ["/api/orders", "ORDERS_URL"],
  ["/api/payments", "PAYMENTS_URL"],
  ["/api/passes", "PASSES_URL"],
  ["/api/checkins", "PASSES_URL"],
];

export function serviceUrl(path: string, env: Record<string, string | undefined> = process.env): string {
  const override = PREFIX_OVERRIDES.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`));
  const base = (override && env[override[1]]) || env.API_BASE_URL || "http://localhost:3000";
  return base.replace(/\/+$/, "") + path;
}

export async function serverGet<T>(path: string): Promise<ApiResult<T>> {
  const incoming = await headers();
  const cookie = incoming.get("cookie");
  // The visitor's address as the gateway gave it: a service called directly (the Kubernetes
  // overrides above) counts its per-network limits (title searches) by the visitor, not by this
  // server. The gateway appended the last entry; the service trusts one hop (TRUST_PROXY).
  const forwardedFor = incoming.get("x-forwarded-for");
  let res: Response;
  try {
    res = await fetch(serviceUrl(path), {
      headers: {
        accept: "application/json",
        ...(cookie ? { cookie } : {}),
        ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
      },
      cache: "no-store",
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    console.error(`GET ${path} failed:`, err instanceof Error ? err.message : err);
    return unreachable();
  }
  return toApiResult<T>(res);
}

/** The signed-in user, or null; fetched once per request however many components ask. */
export const getCurrentUser = cache(async (): Promise<SessionUser | null> => {
  const result = await serverGet<CurrentUserReply>("/api/users/currentuser");
  return result.ok ? (result.data?.currentUser ?? null) : null;
});
