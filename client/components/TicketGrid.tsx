"use client";

import Link from "next/link";
import type { CSSProperties } from "react";
import { formatPrice } from "../lib/money";
import type { Ticket } from "@ticketforge/common/api";
import { LoadMore } from "./LoadMore";
import { usePagedTickets } from "./usePagedTickets";

interface Props {
  tickets: Ticket[];
  nextCursor: string | null;
  query: Record<string, string>;
  currentUserId?: string;
}

export function TicketGrid({ tickets, nextCursor, query, currentUserId }: Props) {
  const paged = usePagedTickets(tickets, nextCursor, query);
  const moreHref = paged.cursor ? `/?${new URLSearchParams({ ...withoutLimit(query), cursor: paged.cursor })}` : "";
  return (
    <>
      <ul className="ticket-grid" ref={paged.listRef} aria-label="Tickets for sale">
        {paged.items.map((t) => (
          <li key={t.id}>
            <Link href={`/tickets/${t.id}`} className="ticket-card" data-item-link>
              <span className="ticket-card-band" style={{ "--hue": hueOf(t.id) } as CSSProperties} aria-hidden="true">
                <span className="ticket-card-initial">{t.title.trim().charAt(0).toUpperCase()}</span>
              </span>
              <span className="ticket-card-body">
                <span className="ticket-card-title">{t.title}</span>
                <span className="ticket-card-meta">
                  <span className="ticket-card-price">{formatPrice(t.price)}</span>
                  {t.userId === currentUserId && <span className="badge badge-info">Yours</span>}
                </span>
              </span>
            </Link>
          </li>
        ))}
      </ul>
      {paged.cursor && (
        <LoadMore href={moreHref} loading={paged.loading} error={paged.error} onLoad={paged.loadMore} label="Show more tickets" />
      )}
    </>
  );
}

function withoutLimit(query: Record<string, string>) {
  const { limit: _limit, ...rest } = query;
  return rest;
}

/** A stable colour per ticket so the grid is easy to scan. */
function hueOf(id: string): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}
