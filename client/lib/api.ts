// Browser-side calls: relative URLs, same origin as the page (the gateway or the ingress).
import { toApiResult, unreachable } from "./api-result";
import type { ApiResult } from "./types";

export async function api<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: body === undefined ? { accept: "application/json" } : { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return unreachable();
  }
  return toApiResult<T>(res);
}
