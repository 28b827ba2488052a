import { isUniqueViolation } from "@ticketforge/common";
import type { PaymentsContext } from "./app";
import { lockOrder } from "./db/orders";
import { settleAttempt } from "./db/attempts";
import { findPaymentOfOrder, insertPayment } from "./db/payments";

export type Recorded = { kind: "recorded"; id: string; orderCancelled: boolean } | { kind: "already paid" };

/**
 * Records a charge the provider made for an order, in one transaction with its attempt. The
 * order row is locked: if it was cancelled meanwhile (the expiry won the race), the charge is
 * recorded as due for refund instead of completing the order. Used by the payment route right
 * after the charge, and by the reconciler for a charge whose recording was lost in a crash.
 */
export async function recordCharge(
  ctx: Pick<PaymentsContext, "work" | "provider">,
  charge: { orderId: string; amountCents: number; chargeId: string; idempotencyKey: string },
): Promise<Recorded> {
  try {
    const recorded = await ctx.work(async (uow): Promise<Recorded> => {
      const current = await lockOrder(uow.db, charge.orderId);
      await settleAttempt(uow.db, charge.idempotencyKey, "charged", charge.chargeId);
      const existing = await findPaymentOfOrder(uow.db, charge.orderId);
      if (existing) return { kind: "already paid" };
      const orderCancelled = current?.status === "cancelled";
      const payment = await insertPayment(uow.db, {
        orderId: charge.orderId,
        amountCents: charge.amountCents,
        provider: ctx.provider.name,
        providerRef: charge.chargeId,
        refundDue: orderCancelled,
      });
      if (!orderCancelled) {
        uow.publish("payment.completed", {
          id: payment.id,
          orderId: charge.orderId,
          amount: payment.amount_cents,
          providerRef: charge.chargeId,
        });
      }
      return { kind: "recorded", id: payment.id, orderCancelled };
    });
    return recorded;
  } catch (err) {
    // a concurrent payment of the same order was recorded first; the shared idempotency key made it the same charge
    if (isUniqueViolation(err, "payments_order_id_unique")) return { kind: "already paid" };
    throw err;
  }
}
