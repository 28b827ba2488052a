import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { BuyButton } from "../../../components/BuyButton";
import { ErrorState } from "../../../components/ErrorState";
import { StatusBadge } from "../../../components/StatusBadge";
import { formatPrice } from "../../../lib/money";
import { getCurrentUser, serverGet } from "../../../lib/server-api";
import { isPending, ticketStatusLabel } from "../../../lib/status";
import { buyBlockedReason } from "../../../lib/ticket-view";
import type { Order, Ticket } from "@ticketforge/common/api";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const result = await serverGet<Ticket>(`/api/tickets/${encodeURIComponent((await params).id)}`);
  return { title: result.ok ? result.data.title : "Ticket" };
}

export default async function TicketPage({ params }: Props) {
  const { id } = await params;
  const [result, user] = await Promise.all([serverGet<Ticket>(`/api/tickets/${encodeURIComponent(id)}`), getCurrentUser()]);
  if (!result.ok && result.status === 404) notFound();
  if (!result.ok)
    return <ErrorState title="This ticket could not be loaded" message={result.errors[0].message} retryHref={`/tickets/${id}`} />;

  const ticket = result.data;
  const mine = user?.id === ticket.userId;
  // A buyer who already holds this ticket needs the way back to their order, not a dead end.
  let ownOrder: Order | null = null;
  if (user && !mine && ticket.status === "reserved") {
    const orders = await serverGet<Order[]>("/api/orders");
    ownOrder = orders.ok ? (orders.data.find((o) => o.ticket?.id === ticket.id && isPending(o.status)) ?? null) : null;
  }
  const status = ticketStatusLabel[ticket.status] ?? { label: ticket.status, tone: "neutral" as const };
  const reason = buyBlockedReason(ticket, user, ownOrder);

  return (
    <article className="ticket-detail card">
      <p className="eyebrow">
        <Link href="/">← All tickets</Link>
      </p>
      <div className="ticket-detail-head">
        <h1>{ticket.title}</h1>
        <StatusBadge tone={status.tone} label={status.label} testId="ticket-status" />
      </div>
      <p className="price-large" data-testid="ticket-price">
        {formatPrice(ticket.price)}
      </p>
      <dl className="facts">
        <div>
          <dt>Seller</dt>
          <dd>{mine ? "You" : "A TicketForge member"}</dd>
        </div>
        <div>
          <dt>How buying works</dt>
          <dd>Buying reserves the ticket for you while you pay; if you do not pay in time it goes back on sale.</dd>
        </div>
      </dl>
      <div className="ticket-actions">
        {user ? (
          <BuyButton ticketId={ticket.id} blockedReason={reason} />
        ) : (
          <Link href={`/auth/signin?next=${encodeURIComponent(`/tickets/${ticket.id}`)}`} className="button button-primary button-large">
            Sign in to buy
          </Link>
        )}
        {ownOrder && (
          <Link href={`/orders/${ownOrder.id}`} className="button button-secondary button-large">
            Continue to payment
          </Link>
        )}
        {mine && ticket.status === "available" && (
          <Link href={`/tickets/${ticket.id}/edit`} className="button button-secondary button-large">
            Edit ticket
          </Link>
        )}
      </div>
    </article>
  );
}
