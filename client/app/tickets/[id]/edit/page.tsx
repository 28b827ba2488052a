import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ErrorState } from "../../../../components/ErrorState";
import { TicketForm } from "../../../../components/TicketForm";
import { serverGet } from "../../../../lib/server-api";
import { requireUser } from "../../../../lib/session";
import type { Ticket } from "@ticketforge/common/api";

export const metadata: Metadata = { title: "Edit ticket" };

export default async function EditTicketPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser(`/tickets/${id}/edit`);
  const result = await serverGet<Ticket>(`/api/tickets/${encodeURIComponent(id)}`);
  if (!result.ok && result.status === 404) notFound();
  if (!result.ok)
    return <ErrorState title="This ticket could not be loaded" message={result.errors[0].message} retryHref={`/tickets/${id}/edit`} />;
  const ticket = result.data;
  if (ticket.userId !== user.id) {
    return <ErrorState title="You cannot edit this ticket" message="Only the person who listed a ticket can change it." />;
  }

  return (
    <section className="narrow">
      <p className="eyebrow">
        <Link href="/tickets/mine">← My tickets</Link>
      </p>
      <h1>Edit ticket</h1>
      {ticket.status === "available" ? (
        <div className="card">
          <TicketForm ticket={ticket} />
        </div>
      ) : (
        <div className="alert alert-info" role="status">
          This ticket is {ticket.status}, so it can no longer be edited. <Link href={`/tickets/${ticket.id}`}>View the ticket</Link>
        </div>
      )}
    </section>
  );
}
