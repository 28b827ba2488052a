import { isUuid, NotFoundError } from "@ticketforge/common";
import type { Pass } from "@ticketforge/common/api";
import type { PassRow } from "./db/passes";

/** The pass id of a route; a malformed one names no pass, so it is a 404 like an unknown one. */
export function passIdOf(params: { id?: string }): string {
  if (!isUuid(params.id)) throw new NotFoundError("Pass not found");
  return params.id;
}

export function toPassJson(p: PassRow): Pass {
  return { id: p.id, orderId: p.order_id, ticket: { id: p.ticket_id, title: p.title }, status: p.status };
}
