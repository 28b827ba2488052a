import { api, newIdempotencyKey } from "./api";
import type { Payment } from "@ticketforge/common/api";

/** One payment attempt, with its own Idempotency-Key: a retry of it never charges twice. */
export async function payOrder(orderId: string, token: string, idempotencyKey = newIdempotencyKey()) {
  return api<Payment>("POST", "/api/payments", { orderId, token }, { idempotencyKey });
}

/** The sandbox provider's test tokens — the same ones Stripe documents. */
export const TEST_CARDS = [
  { token: "tok_visa", label: "Visa •••• 4242", note: "The payment succeeds" },
  { token: "tok_chargeDeclined", label: "Visa •••• 0002", note: "The card is declined" },
] as const;
