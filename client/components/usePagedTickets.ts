"use client";

import { useRef, useState } from "react";
import { api } from "../lib/api";
import type { Ticket } from "@ticketforge/common/api";

/**
 * Appends the next page of tickets in place. `query` holds the list's filters; the API's
 * X-Next-Cursor header says where the next page starts and is absent on the last page.
 */
export function usePagedTickets(initial: Ticket[], initialCursor: string | null, query: Record<string, string>) {
  const [items, setItems] = useState(initial);
  const [cursor, setCursor] = useState(initialCursor);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);

  async function loadMore() {
    if (!cursor || loading) return;
    setLoading(true);
    setError(null);
    const params = new URLSearchParams({ ...query, cursor });
    const result = await api<Ticket[]>("GET", `/api/tickets?${params}`);
    setLoading(false);
    if (!result.ok) return setError(result.errors[0].message);
    const firstNew = items.length;
    const seen = new Set(items.map((t) => t.id));
    setItems([...items, ...result.data.filter((t) => !seen.has(t.id))]);
    setCursor(result.headers.get("x-next-cursor"));
    // Keyboard users continue from the first ticket that just appeared.
    requestAnimationFrame(() => listRef.current?.querySelectorAll<HTMLElement>("[data-item-link]")[firstNew]?.focus());
  }

  return { items, cursor, loading, error, loadMore, listRef };
}
