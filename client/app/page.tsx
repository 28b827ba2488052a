import Link from "next/link";
import { ErrorState } from "../components/ErrorState";
import { TicketGrid } from "../components/TicketGrid";
import { getCurrentUser, serverGet } from "../lib/server-api";
import { firstParam } from "../lib/session";
import type { Ticket } from "@ticketforge/common/api";

const PAGE_SIZE = "12";

export default async function HomePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  // The API accepts searches of up to 200 characters.
  const q = firstParam(params.q)?.trim().slice(0, 200) ?? "";
  const cursor = firstParam(params.cursor);
  const query: Record<string, string> = { limit: PAGE_SIZE, ...(q ? { q } : {}) };
  const [result, user] = await Promise.all([
    serverGet<Ticket[]>(`/api/tickets?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`),
    getCurrentUser(),
  ]);

  return (
    <>
      <section className="hero">
        <div>
          <h1>Tickets for sale</h1>
          <p className="lead">Concerts, games and shows — sold by fans, at the price they set.</p>
        </div>
        <form role="search" action="/" method="get" className="search">
          <label htmlFor="search-q" className="visually-hidden">
            Search tickets by title
          </label>
          <input
            id="search-q"
            className="input"
            type="search"
            name="q"
            defaultValue={q}
            placeholder="Search by title"
            autoComplete="off"
            maxLength={200}
          />
          <button type="submit" className="button button-primary">
            Search
          </button>
        </form>
      </section>

      {(q || cursor) && (
        <p className="results-note">
          {q ? (
            <>
              Showing tickets matching “{q}”{cursor ? ", later results" : ""}.{" "}
            </>
          ) : (
            "Showing later results. "
          )}
          <Link href="/">{q ? "Clear search" : "Back to the newest"}</Link>
        </p>
      )}

      {!result.ok ? (
        <ErrorState
          title="Tickets could not be loaded"
          message={result.errors[0].message}
          retryHref={`/${q ? `?q=${encodeURIComponent(q)}` : ""}`}
        />
      ) : result.data.length === 0 ? (
        <section className="empty-state">
          <h2>{q ? `No tickets match “${q}”` : "No tickets for sale right now"}</h2>
          <p>{q ? "Try a shorter or different word." : "Have a ticket you cannot use? Someone else would love it."}</p>
          <Link href="/tickets/new" className="button button-primary">
            Sell a ticket
          </Link>
        </section>
      ) : (
        <TicketGrid tickets={result.data} nextCursor={result.headers.get("x-next-cursor")} query={query} currentUserId={user?.id} />
      )}
    </>
  );
}
