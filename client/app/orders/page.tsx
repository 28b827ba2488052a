import type { Metadata } from "next";
import Link from "next/link";
import { ErrorState } from "../../components/ErrorState";
import { StatusBadge } from "../../components/StatusBadge";
import { formatPrice } from "../../lib/money";
import { serverGet } from "../../lib/server-api";
import { requireUser } from "../../lib/session";
import { isPending, orderStatusLabel } from "../../lib/status";
import type { Order } from "@ticketforge/common/api";

export const metadata: Metadata = { title: "My orders" };

export default async function MyOrdersPage() {
  await requireUser("/orders");
  const result = await serverGet<Order[]>("/api/orders");
  const now = Date.now();

  return (
    <>
      <div className="page-header">
        <div>
          <h1>My orders</h1>
          <p className="muted">Every ticket you have reserved or bought.</p>
        </div>
      </div>
      {!result.ok ? (
        <ErrorState title="Your orders could not be loaded" message={result.errors[0].message} retryHref="/orders" />
      ) : result.data.length === 0 ? (
        <section className="empty-state">
          <h2>No orders yet</h2>
          <p>When you buy a ticket, it shows up here.</p>
          <Link href="/" className="button button-primary">
            Find tickets
          </Link>
        </section>
      ) : (
        <ul className="row-list" aria-label="My orders">
          {[...result.data]
            .sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt))
            .map((order) => {
              const status = orderStatusLabel(order, now);
              return (
                <li key={order.id} className="row" data-testid="my-order">
                  <div className="row-main">
                    <Link href={`/orders/${order.id}`} className="row-title">
                      {order.ticket.title}
                    </Link>
                    <span className="row-sub">
                      {formatPrice(order.ticket.price)}
                      {order.refund ? ` · refunded ${formatPrice(order.refund.amount)}` : ""}
                    </span>
                  </div>
                  <StatusBadge tone={status.tone} label={status.label} testId="order-status" />
                  <div className="row-action">
                    <Link
                      href={`/orders/${order.id}`}
                      className={`button button-small ${isPending(order.status) ? "button-primary" : "button-secondary"}`}
                    >
                      {isPending(order.status) ? "Pay now" : "View"}
                      <span className="visually-hidden"> order for {order.ticket.title}</span>
                    </Link>
                  </div>
                </li>
              );
            })}
        </ul>
      )}
    </>
  );
}
