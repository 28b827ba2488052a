import type { Request, Response } from "express";
import { z } from "zod";
import {
  BadRequestError,
  isUniqueViolation,
  NotFoundError,
  publishEvent,
  RequestValidationError,
  ServiceUnavailableError,
  userOf,
  validate,
} from "@ticketforge/common";
import type { PaymentsContext } from "../app";
import { findOrder, lockOrder, nextChargeAttempt, type Order } from "../db/orders";
import { findPaymentOfOrder, insertPayment } from "../db/payments";
import { InvalidPaymentTokenError, PaymentDeclinedError } from "../providers";

const paymentBody = z.object({
  orderId: z.string({ message: "orderId must be a string" }).trim().min(1, "You must supply an orderId"),
  token: z
    .string({ message: "token must be a string" })
    .trim()
    .min(1, "You must supply a payment token")
    .max(255, "token must be at most 255 characters"),
});

const alreadyPaid = () => new BadRequestError("Order has already been paid");

/**
 * Pays an order: check it may be paid, charge the card (outside any transaction, with an
 * idempotency key, so paying twice never charges twice), then record the payment and its event
 * in one transaction. The amount is the order's price as this service knows it.
 */
export const createPayment = (ctx: PaymentsContext) => async (req: Request, res: Response) => {
  const user = userOf(req);
  const { orderId, token } = validate(paymentBody, req.body);
  const order = await findOrder(ctx.db, orderId);
  // someone else's order answers as an unknown one, so order ids cannot be probed
  if (!order || order.user_id !== user.id) throw new NotFoundError("Order not found");
  if (order.status === "cancelled") throw new BadRequestError("Cannot pay for a cancelled order");
  if (order.status === "complete" || (await findPaymentOfOrder(ctx.db, order.id))) throw alreadyPaid();

  const chargeId = await charge(ctx, order, token);
  const payment = await record(ctx, order, chargeId);
  if (payment.orderCancelled) {
    const refunded = await ctx.refunder.refundNow(payment.id).catch((err) => {
      ctx.log.warn({ err, paymentId: payment.id }, "refund left to the refunder's sweeps");
      return false;
    });
    throw new BadRequestError(`Order was cancelled; the payment ${refunded ? "was" : "will be"} refunded`);
  }
  ctx.log.info({ paymentId: payment.id, orderId: order.id, amountCents: order.price_cents }, "order paid");
  res.status(201).json({ id: payment.id, orderId: order.id });
};

async function charge(ctx: PaymentsContext, order: Order, token: string): Promise<string> {
  const attempt = order.charge_attempt;
  try {
    const result = await ctx.provider.charge({
      amountCents: order.price_cents,
      currency: ctx.config.PAYMENT_CURRENCY,
      token,
      // the order id itself first (DESIGN §3); after a decline a new key lets the buyer try another card
      idempotencyKey: attempt === 0 ? order.id : `${order.id}-${attempt}`,
      description: `TicketForge order ${order.id}`,
    });
    return result.id;
  } catch (err) {
    if (err instanceof PaymentDeclinedError) {
      await nextChargeAttempt(ctx.db, order.id, attempt);
      throw new BadRequestError(err.reason);
    }
    if (err instanceof InvalidPaymentTokenError) {
      throw new RequestValidationError([{ field: "token", message: "Invalid payment token" }]);
    }
    ctx.log.error({ err, orderId: order.id }, "payment provider failed");
    throw new ServiceUnavailableError("The payment could not be processed right now; please try again");
  }
}

/**
 * Records the charge. The order row is locked: if it was cancelled since the check above (the
 * expiry won the race), the charge is recorded as due for refund instead of completing the order.
 */
async function record(ctx: PaymentsContext, order: Order, chargeId: string) {
  try {
    const recorded = await ctx.db.transaction().execute(async (tx) => {
      const current = await lockOrder(tx, order.id);
      const orderCancelled = current?.status === "cancelled";
      const payment = await insertPayment(tx, {
        orderId: order.id,
        amountCents: order.price_cents,
        provider: ctx.provider.name,
        providerRef: chargeId,
        refundDue: orderCancelled,
      });
      if (!orderCancelled) {
        await publishEvent(tx, "payment.completed", {
          id: payment.id,
          orderId: order.id,
          amount: payment.amount_cents,
          providerRef: chargeId,
        });
      }
      return { id: payment.id, orderCancelled };
    });
    ctx.relay.kick();
    return recorded;
  } catch (err) {
    // a concurrent payment of the same order was recorded first; the shared idempotency key made it the same charge
    if (isUniqueViolation(err, "payments_order_id_unique")) throw alreadyPaid();
    throw err;
  }
}
