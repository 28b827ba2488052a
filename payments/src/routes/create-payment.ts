import type { Request, Response } from "express";
import {
  BadRequestError,
  NotFoundError,
  RequestValidationError,
  ServiceUnavailableError,
  userOf,
  validate,
  type RateLimiter,
} from "@ticketforge/common";
import { paymentBody, type Payment } from "@ticketforge/common/api";
import type { PaymentsContext } from "../app";
import { findOrder, nextChargeAttempt, type Order } from "../db/orders";
import { beginAttempt, settleAttempt } from "../db/attempts";
import { findPaymentOfOrder } from "../db/payments";
import { InvalidPaymentTokenError, PaymentDeclinedError } from "../providers";
import { recordCharge } from "../charges";

const alreadyPaid = () => new BadRequestError("Order has already been paid");

/**
 * Failed cards (declined, or tokens the provider does not know) are throttled per order and per
 * buyer: a stolen card list cannot be tried here. Every attempt is counted before the charge, in
 * one statement that also reads the count, so parallel attempts cannot all slip under the limit;
 * an attempt that charges, or that the provider could not answer, is given back afterwards.
 */
export interface DeclineLimits {
  perOrder: RateLimiter;
  perBuyer: RateLimiter;
}

/**
 * Pays an order: check it may be paid, record the attempt (committed before any money moves),
 * charge the card (outside any transaction, with an idempotency key, so paying twice never
 * charges twice), then record the payment and its event in one transaction. The amount is the
 * order's price as this service knows it. A crash after the charge leaves the attempt pending,
 * and the reconciler finishes it.
 */
export const createPayment = (ctx: PaymentsContext, declines: DeclineLimits) => async (req: Request, res: Response) => {
  const user = userOf(req);
  const { orderId, token } = validate(paymentBody, req.body);
  const order = await findOrder(ctx.db, orderId);
  // someone else's order answers as an unknown one, so order ids cannot be probed
  if (!order || order.user_id !== user.id) throw new NotFoundError("Order not found");
  if (order.status === "cancelled") throw new BadRequestError("Cannot pay for a cancelled order");
  if (order.status === "complete" || (await findPaymentOfOrder(ctx.db, order.id))) throw alreadyPaid();
  const minimum = ctx.provider.minimumChargeCents(ctx.config.PAYMENT_CURRENCY);
  if (order.price_cents < minimum) {
    const units = `${(minimum / 100).toFixed(2)} ${ctx.config.PAYMENT_CURRENCY.toUpperCase()}`;
    throw new BadRequestError(`The price is below the smallest amount ${ctx.provider.name} can charge (${units})`);
  }
  await declines.perOrder.consume(order.id, res, (s) => `Too many declined cards for this order, try again in ${s} seconds`);
  await declines.perBuyer.consume(user.id, res, (s) => `Too many declined cards for your account, try again in ${s} seconds`);
  const notAFailure = async () => {
    await declines.perOrder.release(order.id);
    await declines.perBuyer.release(user.id);
  };

  const idempotencyKey = order.charge_attempt === 0 ? order.id : `${order.id}-${order.charge_attempt}`;
  await beginAttempt(ctx.db, { key: idempotencyKey, orderId: order.id, userId: user.id, amountCents: order.price_cents });
  const chargeId = await charge(ctx, order, token, idempotencyKey, notAFailure);
  await notAFailure();
  const payment = await recordCharge(ctx, { orderId: order.id, amountCents: order.price_cents, chargeId, idempotencyKey });
  if (payment.kind === "already paid") throw alreadyPaid();
  if (payment.orderCancelled) {
    const refunded = await ctx.refunder.refundNow(payment.id).catch((err) => {
      ctx.log.warn({ err, paymentId: payment.id }, "refund left to the refunder's sweeps");
      return false;
    });
    throw new BadRequestError(`Order was cancelled; the payment ${refunded ? "was" : "will be"} refunded`);
  }
  ctx.log.info({ paymentId: payment.id, orderId: order.id, amountCents: order.price_cents }, "order paid");
  res.status(201).json({ id: payment.id, orderId: order.id } satisfies Payment);
};

async function charge(
  ctx: PaymentsContext,
  order: Order,
  token: string,
  idempotencyKey: string,
  notAFailure: () => Promise<void>,
): Promise<string> {
  try {
    const result = await ctx.provider.charge({
      amountCents: order.price_cents,
      currency: ctx.config.PAYMENT_CURRENCY,
      token,
      // the order id itself first (docs/design.md §3); after a decline a new key lets the buyer try another card
      idempotencyKey,
      description: `TicketForge order ${order.id}`,
    });
    return result.id;
  } catch (err) {
    if (err instanceof PaymentDeclinedError) {
      await settleAttempt(ctx.db, idempotencyKey, "declined");
      await nextChargeAttempt(ctx.db, order.id, order.charge_attempt);
      throw new BadRequestError(err.reason);
    }
    if (err instanceof InvalidPaymentTokenError) {
      await settleAttempt(ctx.db, idempotencyKey, "invalid");
      throw new RequestValidationError([{ field: "token", message: "Invalid payment token" }]);
    }
    // the charge may or may not have happened: the attempt stays pending for the reconciler; an
    // outage is not the buyer's failed card
    ctx.log.error({ err, orderId: order.id }, "payment provider failed");
    await notAFailure();
    throw new ServiceUnavailableError("The payment could not be processed right now; please try again");
  }
}
