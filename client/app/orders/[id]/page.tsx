import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ErrorState } from "../../../components/ErrorState";
import { OrderLive } from "../../../components/OrderLive";
import { serverGet } from "../../../lib/server-api";
import { requireUser } from "../../../lib/session";
import type { Order } from "@ticketforge/common/api";

export const metadata: Metadata = { title: "Order" };

export default async function OrderPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireUser(`/orders/${id}`);
  const result = await serverGet<Order>(`/api/orders/${encodeURIComponent(id)}`);
  if (!result.ok && result.status === 404) notFound();
  if (!result.ok && result.status === 401) {
    return (
      <ErrorState
        title="This order is not yours"
        message="You can only see the orders you placed. Are you signed in with the right account?"
      />
    );
  }
  if (!result.ok)
    return <ErrorState title="This order could not be loaded" message={result.errors[0].message} retryHref={`/orders/${id}`} />;

  // Read at request time (not inlined at build) so one image can run in sandbox or Stripe mode.
  const stripeKey = process.env["NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"] || null;
  return <OrderLive initialOrder={result.data} serverNow={Date.now()} stripeKey={stripeKey} />;
}
