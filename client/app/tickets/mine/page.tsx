import type { Metadata } from "next";
import Link from "next/link";
import { ErrorState } from "../../../components/ErrorState";
import { MyTicketList } from "../../../components/MyTicketList";
import { serverGet } from "../../../lib/server-api";
import { firstParam, requireUser } from "../../../lib/session";
import type { Ticket } from "@ticketforge/common/api";

export const metadata: Metadata = { title: "My tickets" };

export default async function MyTicketsPage({ searchParams }: { searchParams: Promise<{ cursor?: string | string[] }> }) {
  await requireUser("/tickets/mine");
  const cursor = firstParam((await searchParams).cursor);
  const query = { mine: "true", limit: "20" };
  const result = await serverGet<Ticket[]>(`/api/tickets?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>My tickets</h1>
          <p className="muted">Everything you have listed. You can edit a ticket while it is available.</p>
        </div>
        <Link href="/tickets/new" className="button button-primary">
          Sell a ticket
        </Link>
      </div>
      {!result.ok ? (
        <ErrorState title="Your tickets could not be loaded" message={result.errors[0].message} retryHref="/tickets/mine" />
      ) : result.data.length === 0 ? (
        <section className="empty-state">
          <h2>You have not listed any tickets yet</h2>
          <p>List one in under a minute.</p>
          <Link href="/tickets/new" className="button button-primary">
            Sell a ticket
          </Link>
        </section>
      ) : (
        <MyTicketList tickets={result.data} nextCursor={result.headers.get("x-next-cursor")} query={query} />
      )}
    </>
  );
}
