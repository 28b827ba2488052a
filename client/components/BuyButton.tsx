"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, newIdempotencyKey } from "../lib/api";
import type { Order } from "@ticketforge/common/api";

export function BuyButton({ ticketId, blockedReason }: { ticketId: string; blockedReason: string | null }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function buy() {
    setBusy(true);
    setError(null);
    // one key for this click: its retries never reserve twice
    const result = await api<Order>("POST", "/api/orders", { ticketId }, { idempotencyKey: newIdempotencyKey() });
    if (result.ok) return router.push(`/orders/${result.data.id}`);
    setBusy(false);
    setError(result.errors[0].message);
    // Someone else may have just reserved it: show the ticket's current state.
    router.refresh();
  }

  return (
    <div className="buy">
      <button
        type="button"
        className="button button-primary button-large"
        onClick={buy}
        disabled={busy || blockedReason !== null}
        aria-describedby={blockedReason ? "buy-reason" : undefined}
      >
        {busy ? "Reserving…" : "Buy"}
      </button>
      {blockedReason && (
        <p id="buy-reason" className="buy-reason" data-testid="buy-reason">
          {blockedReason}
        </p>
      )}
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
