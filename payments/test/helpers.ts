import request from "supertest";
import type { Subject } from "@ticketforge/common";
import { waitAcked, type TestService, aUser, anOrder, publish } from "@ticketforge/common/testing";
import type { EventRecorder } from "@ticketforge/nats";
import { SandboxProvider, type ChargeRequest, type PaymentProvider, type RefundRequest } from "../src/providers";

/**
 * The sandbox, with a log of every call made to it, and hooks to make it slow (a charge that
 * takes a while, while the world moves on) or failing (a refund the provider refuses at first).
 */
export class RecordingProvider implements PaymentProvider {
  readonly name = "sandbox";
  readonly sandbox = new SandboxProvider();
  readonly chargeCalls: ChargeRequest[] = [];
  readonly refundCalls: RefundRequest[] = [];
  /** Runs after the card is charged and before the charge is returned, once. */
  onCharged?: () => Promise<void>;
  /** How many charge / refund calls to fail (an outage) before the provider answers again. */
  failingCharges = 0;
  failingRefunds = 0;

  async charge(request: ChargeRequest) {
    this.chargeCalls.push(request);
    if (this.failingCharges > 0) {
      this.failingCharges--;
      throw new Error("provider unavailable");
    }
    const result = await this.sandbox.charge(request);
    const hook = this.onCharged;
    this.onCharged = undefined;
    await hook?.();
    return result;
  }

  async refund(request: RefundRequest) {
    this.refundCalls.push(request);
    if (this.failingRefunds > 0) {
      this.failingRefunds--;
      throw new Error("provider unavailable");
    }
    return this.sandbox.refund(request);
  }

  async findCharge(idempotencyKey: string) {
    return this.sandbox.findCharge(idempotencyKey);
  }

  minimumChargeCents() {
    return this.minimumCents;
  }

  /** The smallest amount this provider charges (Stripe's is 50 cents in usd). */
  minimumCents = 1;

  /** Charges really made for an order (whatever the number of calls). */
  async chargesOf(orderId: string) {
    return (await this.sandbox.charges()).filter((c) => c.description.includes(orderId));
  }

  chargeCallsOf(orderId: string) {
    return this.chargeCalls.filter((c) => c.idempotencyKey.startsWith(orderId));
  }
}

/**
 * Every request of a test comes from this machine's one address: tests about anything but the
 * per-network limit (network-limit.test.ts) set it out of their way.
 */
export const fromOneAddress = { PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE: 1_000_000 };

/** An order of `buyer` that the payments service knows (order.created applied). */
export async function givenOrder(service: TestService, buyer = aUser(), priceCents = 2050) {
  const order = anOrder({ buyerId: buyer.id, priceCents });
  const { seq } = await publish(service, "order.created", order.created());
  await waitAcked(service, "order.created", seq);
  return { ...order, buyer };
}

export function pay(service: TestService, cookie: string | undefined, body: object) {
  const req = request(service.app).post("/api/payments");
  return (cookie ? req.set("Cookie", cookie) : req).send(body);
}

/**
 * What paying the order would answer now, without charging anything (an unknown token is refused
 * by the provider after every check of the order): "unknown", "cancelled", "paid" or "payable".
 */
export async function paymentState(service: TestService, cookie: string, orderId: string) {
  const res = await pay(service, cookie, { orderId, token: "tok_probe" });
  if (res.status === 404) return "unknown";
  const message = res.body.errors?.[0]?.message;
  if (message === "Cannot pay for a cancelled order") return "cancelled";
  if (message === "Order has already been paid") return "paid";
  if (res.body.errors?.[0]?.field === "token") return "payable";
  throw new Error(`unexpected answer ${res.status} ${JSON.stringify(res.body)}`);
}

/** The first recorded event of `subject` that matches, waiting for it (typed as found: it throws otherwise). */

export async function eventFor(recorder: EventRecorder, subject: Subject, match: (data: any) => boolean) {
  const event = await recorder.waitFor(subject, match);
  if (!event) throw new Error(`no ${subject} event`);
  return event;
}
