import { deadLetterHeaders, SweepLoop, type Bus, type Logger, type Queryable, type Work, type Worker } from "@ticketforge/common";
import type { PaymentsTables } from "../db/tables";
import { lockNextDueRefund, lockPayment, markRefunded, recordRefundFailure, type Payment } from "../db/payments";
import type { PaymentProvider } from "../providers";

export interface RefunderOptions {
  db: Queryable;
  work: Work<PaymentsTables>;
  log: Logger;
  bus: Bus;
  provider: PaymentProvider;
  sweepIntervalMs: number;
  retryDelayMs: number;
  /** Failures of one refund after which an operator is told (an error log and a dead letter). */
  alertAfter: number;
}

type RefundOutcome = "refunded" | "already refunded" | "nothing due" | "failed";

/**
 * Compensation (docs/design.md §4 rule 5): gives back every charge whose order was cancelled — a payment
 * that raced the expiry. The order.cancelled listener and the payment route only mark a payment
 * `refund_due_at` in their own transactions; the refund itself happens here, outside them, and is
 * retried until the provider accepts it, so neither a crash nor a provider outage loses a refund.
 *
 * Exactly once: the payment row stays locked while it is refunded (other replicas skip it), the
 * provider call carries the idempotency key `refund-<paymentId>` (a retry after a crash gets the
 * same refund back), and the `refunded` status commits together with payment.refunded.
 */
export class Refunder implements Worker {
  private readonly loop: SweepLoop;

  constructor(private readonly options: RefunderOptions) {
    this.loop = new SweepLoop(() => this.refundAllDue(), {
      intervalMs: options.sweepIntervalMs,
      onError: (err) => options.log.warn({ err }, "refund pass failed; the next sweep retries"),
    });
  }

  start(): this {
    this.loop.start();
    return this;
  }

  /** Starts a pass over the due refunds; kicks during a pass coalesce into one more pass. */
  kick(): void {
    this.loop.kick();
  }

  /** Refunds everything due now; a refund that fails is postponed by retryDelayMs. */
  private async refundAllDue(): Promise<void> {
    while (!this.loop.isStopped && (await this.refundNext())) {
      // keep going while refunds are due
    }
  }

  /** Refunds one payment at once (the route's race with a cancellation); false when it is left to the sweeps. */
  async refundNow(paymentId: string): Promise<boolean> {
    const outcome = await this.attempt((db) => lockPayment(db, paymentId));
    return outcome === "refunded" || outcome === "already refunded";
  }

  private async refundNext(): Promise<boolean> {
    return (await this.attempt(lockNextDueRefund)) !== "nothing due";
  }

  /** One unit of work: lock the payment, refund it if it is due, record that and publish it. */
  private async attempt(lock: (db: Queryable) => Promise<Payment | undefined>): Promise<RefundOutcome> {
    const { db, log, provider, work } = this.options;
    let current: Payment | undefined;
    try {
      const outcome = await work(async (uow): Promise<RefundOutcome> => {
        const payment = await lock(uow.db);
        if (payment?.status === "refunded") return "already refunded";
        if (!payment?.refund_due_at) return "nothing due";
        current = payment;
        const refund = await provider.refund({ chargeId: payment.provider_ref, idempotencyKey: `refund-${payment.id}` });
        await markRefunded(uow.db, payment.id, refund.id);
        // providerRef names the refund at the provider: the operation support looks up for it
        uow.publish("payment.refunded", {
          id: payment.id,
          orderId: payment.order_id,
          amount: payment.amount_cents,
          providerRef: refund.id,
        });
        log.info({ paymentId: payment.id, orderId: payment.order_id, refundRef: refund.id }, "payment refunded");
        return "refunded";
      });
      return outcome;
    } catch (err) {
      if (!current) throw err;
      const { id, order_id: orderId } = current;
      const error = (err as Error).message ?? String(err);
      // if even this fails the refund stays due now, and the next sweep tries again
      const failures = await recordRefundFailure(db, id, error, this.options.retryDelayMs).catch(() => 0);
      log.warn({ err, paymentId: id, orderId, failures }, "refund failed; will retry later");
      if (failures === this.options.alertAfter) await this.alert(current, failures, error);
      return "failed";
    }
  }

  /** Runs a pass now and resolves when no pass runs any more (tests). */
  async sweep(): Promise<void> {
    this.loop.kick();
    await this.loop.idle();
  }

  /**
   * A refund that keeps failing is money a buyer is owed: it must not loop out of sight. It is
   * logged as an error and parked in the dead-letter stream (listed by `npm run dead-letters`)
   * with the payment, the charge and the provider's last words; the refunder keeps trying.
   */
  private async alert(payment: Payment, failures: number, error: string) {
    const { log, bus } = this.options;
    log.error(
      { paymentId: payment.id, orderId: payment.order_id, chargeRef: payment.provider_ref, failures, error },
      "refund keeps failing; an operator must look at it",
    );
    const body = {
      paymentId: payment.id,
      orderId: payment.order_id,
      chargeRef: payment.provider_ref,
      amount: payment.amount_cents,
      failures,
      error,
    };
    await bus
      .publish("deadletter.payments.refund", new TextEncoder().encode(JSON.stringify(body)), `refund-stuck:${payment.id}`, {
        [deadLetterHeaders.subject]: "refund",
        [deadLetterHeaders.service]: "payments",
        [deadLetterHeaders.consumer]: "payments-refunder",
        [deadLetterHeaders.error]: `refund failed ${failures} times: ${error}`.replace(/[\r\n]+/g, " | ").slice(0, 4_000),
        [deadLetterHeaders.deliveries]: String(failures),
      })
      .catch((err) => log.error({ err, paymentId: payment.id }, "could not dead-letter a failing refund"));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
