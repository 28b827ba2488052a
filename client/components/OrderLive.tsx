"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../lib/api";
import { formatPrice } from "../lib/money";
import { isPending, orderStatusLabel, ticketChangedSentence } from "../lib/status";
import type { Order } from "@ticketforge/common/api";
import { Countdown } from "./Countdown";
import { SandboxPaymentForm } from "./SandboxPaymentForm";
import { StatusBadge } from "./StatusBadge";
import { StripePaymentForm } from "./StripePaymentForm";
import { useOrderPolling } from "./useOrderPolling";

// A payment that raced the expiry is refunded a moment later; keep reading the order this long
// after a payment attempt so the refund note appears by itself.
const REFUND_WATCH_MS = 60_000;

interface Props {
  initialOrder: Order;
  serverNow: number;
  stripeKey: string | null;
}

export function OrderLive({ initialOrder, serverNow, stripeKey }: Props) {
  const [order, setOrder] = useState(initialOrder);
  const [paidAt, setPaidAt] = useState<number | null>(null);
  const [triedAt, setTriedAt] = useState<number | null>(null);
  const [kick, setKick] = useState(0);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [cancelledHere, setCancelledHere] = useState(false);
  const onOrder = useCallback((o: Order) => setOrder(o), []);

  const pending = isPending(order.status);
  const watchingRefund = order.status === "cancelled" && triedAt !== null && !order.refund && Date.now() - triedAt < REFUND_WATCH_MS;
  const { reconnecting, signedOut } = useOrderPolling(order.id, pending || watchingRefund, kick, onOrder);
  const refreshNow = useCallback(() => setKick((k) => k + 1), []);
  const onPaymentResult = useCallback(
    (paid: boolean) => {
      setTriedAt(Date.now());
      if (paid) setPaidAt(Date.now());
      // A refused payment may mean the order just changed (e.g. expired): look now.
      else refreshNow();
    },
    [refreshNow],
  );

  // Move focus to the outcome so keyboard and screen-reader users notice the change.
  const outcomeRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (order.status !== initialOrder.status) outcomeRef.current?.focus();
  }, [order.status, initialOrder.status]);

  async function cancel() {
    setCancelling(true);
    setCancelError(null);
    const result = await api("DELETE", `/api/orders/${encodeURIComponent(order.id)}`);
    setCancelling(false);
    if (result.ok) {
      setCancelledHere(true);
      refreshNow();
    } else {
      setCancelError(result.errors[0].message);
    }
  }

  // A cancelled order says why. One cancelled before reasons were kept, seen turning cancelled
  // without the buyer cancelling here, expired, whatever the browser's clock says.
  const expiredHere = order.status === "cancelled" && initialOrder.status !== "cancelled" && !cancelledHere;
  const status = order.cancellation
    ? orderStatusLabel(order)
    : expiredHere
      ? { label: "Expired", tone: "neutral" as const }
      : cancelledHere && order.status === "cancelled"
        ? { label: "Cancelled", tone: "neutral" as const }
        : orderStatusLabel(order);
  // the seller changed the ticket after the order was priced: tickets refused the reservation
  const ticketChanged = order.cancellation?.reason === "ticket changed";
  return (
    <div className="order-layout">
      <section className="card order-summary" aria-labelledby="order-title">
        <p className="eyebrow">Order</p>
        <h1 id="order-title">{order.ticket.title}</h1>
        <p className="price-large">{formatPrice(order.ticket.price)}</p>
        <p className="order-status-line">
          Status: <StatusBadge tone={status.tone} label={status.label} testId="order-status" />
        </p>
        {pending && <Countdown expiresAt={order.expiresAt} serverNow={serverNow} onExpire={refreshNow} />}
        {signedOut && (
          <p className="alert alert-error" role="alert">
            You were signed out, so this page stopped updating.{" "}
            <Link href={`/auth/signin?next=${encodeURIComponent(`/orders/${order.id}`)}`}>Sign in again</Link>
          </p>
        )}
        {reconnecting && !signedOut && (
          <p className="fine-print" role="status">
            Connection lost — still trying to update this order…
          </p>
        )}
        <p className="fine-print">
          <Link href={`/tickets/${order.ticket.id}`}>View the ticket</Link> · <Link href="/orders">All my orders</Link>
        </p>
      </section>

      <section className="card order-panel">
        <p className="visually-hidden" role="status">
          {announcement(order.status, status.label, paidAt !== null)}
        </p>
        {pending && paidAt !== null ? (
          <div className="outcome">
            <h2 ref={outcomeRef} tabIndex={-1}>
              Payment received
            </h2>
            <p>Confirming your order — this takes a second or two.</p>
            <span className="spinner" aria-hidden="true" />
          </div>
        ) : pending ? (
          <>
            <h2>Pay for your ticket</h2>
            <p className="muted">The ticket is reserved for you until the timer runs out.</p>
            {stripeKey ? (
              <StripePaymentForm publishableKey={stripeKey} orderId={order.id} price={order.ticket.price} onResult={onPaymentResult} />
            ) : (
              <SandboxPaymentForm orderId={order.id} price={order.ticket.price} onResult={onPaymentResult} />
            )}
            <div className="cancel-row">
              <button type="button" className="button button-secondary button-small" onClick={cancel} disabled={cancelling}>
                {cancelling ? "Cancelling…" : "Cancel order"}
              </button>
              <p className="fine-print">Changed your mind? Cancelling puts the ticket back on sale.</p>
              {cancelError && (
                <p className="alert alert-error" role="alert">
                  {cancelError}
                </p>
              )}
            </div>
          </>
        ) : order.status === "complete" ? (
          <div className="outcome outcome-success">
            <span className="outcome-icon" aria-hidden="true">
              ✓
            </span>
            <h2 ref={outcomeRef} tabIndex={-1}>
              Payment complete — the ticket is yours
            </h2>
            <p>Enjoy the show! You can find this order under My orders at any time.</p>
            <Link href="/" className="button button-secondary">
              Browse more tickets
            </Link>
          </div>
        ) : (
          <div className="outcome">
            <h2 ref={outcomeRef} tabIndex={-1}>
              {ticketChanged ? "The ticket changed" : status.label === "Expired" ? "Reservation expired" : "Order cancelled"}
            </h2>
            <p data-testid="cancel-reason">
              {ticketChanged
                ? ticketChangedSentence(order.cancellation?.ticketPrice ?? null, order.refund !== null || triedAt !== null)
                : status.label === "Expired"
                  ? "The time to pay ran out, so the ticket went back on sale."
                  : "This order was cancelled and the ticket went back on sale."}
            </p>
            {order.refund && (
              <p className="alert alert-info" data-testid="refund-note">
                Your payment of {formatPrice(order.refund.amount)}{" "}
                {ticketChanged ? "was refunded on" : "arrived after the reservation had ended, so it was refunded on"}{" "}
                {new Date(order.refund.refundedAt).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" })}.
              </p>
            )}
            {watchingRefund && (
              <p className="fine-print">
                {ticketChanged
                  ? "Checking for the refund of your payment…"
                  : "Your payment arrived as the reservation ended — checking for the refund…"}
              </p>
            )}
            <Link href={`/tickets/${order.ticket.id}`} className="button button-secondary">
              {ticketChanged ? "See the ticket at its new price" : "See if the ticket is still available"}
            </Link>
          </div>
        )}
      </section>
    </div>
  );
}

function announcement(status: Order["status"], label: string, paid: boolean): string {
  if (isPending(status)) return paid ? "Payment received. Confirming your order." : "";
  if (status === "complete") return "Payment complete. The ticket is yours.";
  if (label === "Ticket changed") return "The order was cancelled: the seller changed the ticket after you ordered.";
  return label === "Expired" ? "The reservation expired." : "The order was cancelled.";
}
