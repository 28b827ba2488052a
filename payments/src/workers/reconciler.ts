import type { Logger, Worker } from "@ticketforge/common";
import type { PaymentsContext } from "../app";
import { lockStalePendingAttempt, settleAttempt, touchAttempt, type Attempt } from "../db/attempts";
import { recordCharge } from "../charges";

export interface ReconcilerOptions {
  sweepIntervalMs: number;
  /** How old a pending attempt must be: younger ones may still be in the hands of their request. */
  olderThanMs: number;
}

/**
 * Finishes charge attempts that a crash left pending: the route records each attempt before it
 * calls the provider, so an attempt still pending long after means the process died between the
 * charge and its recording (or the provider never answered). The provider is asked what became
 * of the attempt's idempotency key: a charge is recorded (the order completes, or, if it was
 * cancelled meanwhile, the refunder gives the money back); a decline or nothing at all closes the
 * attempt. "Nothing" must be the provider's firm answer (Stripe's lagging Search alone is not:
 * StripeProvider.findCharge confirms a miss in the list of charges created around the request's
 * time), or an attempt whose card was charged would be closed and the money kept without a sale.
 * An attempt the provider cannot tell about yet is asked about again on a later sweep.
 */
export class Reconciler implements Worker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly ctx: Omit<PaymentsContext, "reconciler">,
    private readonly options: ReconcilerOptions,
  ) {}

  start(): this {
    this.timer = setInterval(() => this.kick(), this.options.sweepIntervalMs);
    this.timer.unref();
    return this;
  }

  kick(): void {
    if (this.stopped || this.running) return;
    this.running = this.sweep().finally(() => (this.running = undefined));
  }

  /** Settles every stale pending attempt there is now; resolves when done. */
  async sweep(): Promise<void> {
    const seen = new Set<string>();
    try {
      while (!this.stopped) {
        const attempt = await this.ctx.work(async (uow) => {
          const found = await lockStalePendingAttempt(uow.db, this.options.olderThanMs);
          // moved to the back of the queue at once, so a provider that cannot answer does not block the others
          if (found) await touchAttempt(uow.db, found.idempotency_key);
          return found;
        });
        if (!attempt || seen.has(attempt.idempotency_key)) break;
        seen.add(attempt.idempotency_key);
        await this.settle(attempt, this.ctx.log.child({ orderId: attempt.order_id, idempotencyKey: attempt.idempotency_key }));
      }
    } catch (err) {
      this.ctx.log.warn({ err }, "reconciliation pass failed; the next sweep retries");
    }
  }

  private async settle(attempt: Attempt, log: Logger) {
    let lookup;
    try {
      lookup = await this.ctx.provider.findCharge(attempt.idempotency_key, attempt.requested_at);
    } catch (err) {
      log.warn({ err }, "provider cannot tell what became of a charge attempt yet; asking again later");
      return;
    }
    if (lookup.found === "charge") {
      const recorded = await recordCharge(this.ctx, {
        orderId: attempt.order_id,
        amountCents: attempt.amount_cents,
        chargeId: lookup.id,
        idempotencyKey: attempt.idempotency_key,
      });
      if (recorded.kind === "recorded" && recorded.orderCancelled) this.ctx.refunder.kick();
      log.warn({ chargeId: lookup.id, outcome: recorded }, "charge found that was never recorded; recorded now");
      return;
    }
    await settleAttempt(this.ctx.db, attempt.idempotency_key, lookup.found === "declined" ? "declined" : "abandoned");
    log.info({ found: lookup.found }, "pending charge attempt closed: no money was taken");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
