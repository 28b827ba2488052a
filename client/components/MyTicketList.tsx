"use client";

import Link from "next/link";
import { formatPrice } from "../lib/money";
import { ticketStatusLabel } from "../lib/status";
import type { Ticket } from "@ticketforge/common/api";
import { LoadMore } from "./LoadMore";
import { StatusBadge } from "./StatusBadge";
import { usePagedTickets } from "./usePagedTickets";

const lockedReason = { reserved: "Locked while a buyer pays", sold: "Sold — nothing to edit" } as const;

export function MyTicketList({
  tickets,
  nextCursor,
  query,
}: {
  tickets: Ticket[];
  nextCursor: string | null;
  query: Record<string, string>;
}) {
  const paged = usePagedTickets(tickets, nextCursor, query);
  return (
    <>
      <ul className="row-list" ref={paged.listRef} aria-label="My tickets">
        {paged.items.map((t) => {
          const status = ticketStatusLabel[t.status] ?? { label: t.status, tone: "neutral" as const };
          return (
            <li key={t.id} className="row" data-testid="my-ticket">
              <div className="row-main">
                <Link href={`/tickets/${t.id}`} className="row-title" data-item-link>
                  {t.title}
                </Link>
                <span className="row-sub">{formatPrice(t.price)}</span>
              </div>
              <StatusBadge tone={status.tone} label={status.label} testId="ticket-status" />
              <div className="row-action">
                {t.status === "available" ? (
                  <Link href={`/tickets/${t.id}/edit`} className="button button-secondary button-small">
                    Edit<span className="visually-hidden"> {t.title}</span>
                  </Link>
                ) : (
                  <span className="row-note">{lockedReason[t.status]}</span>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {paged.cursor && (
        <LoadMore
          href={`/tickets/mine?cursor=${encodeURIComponent(paged.cursor)}`}
          loading={paged.loading}
          error={paged.error}
          onLoad={paged.loadMore}
          label="Show more"
        />
      )}
    </>
  );
}
