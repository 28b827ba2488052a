"use client";

import { useEffect, useState } from "react";
import { api } from "../lib/api";
import type { Order } from "@ticketforge/common/api";

const INTERVAL_MS = 1500;

/**
 * Re-reads the order while `active`, so a payment confirmation or an expiry shows up without a
 * reload. `kick` changes to ask for a read right away (e.g. when the countdown reaches zero).
 */
export function useOrderPolling(orderId: string, active: boolean, kick: number, onOrder: (o: Order) => void) {
  const [failures, setFailures] = useState(0);
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let misses = 0;

    async function poll() {
      const result = await api<Order>("GET", `/api/orders/${encodeURIComponent(orderId)}`);
      if (stopped) return;
      if (result.ok && result.data?.ticket) {
        misses = 0;
        onOrder(result.data);
      } else if (result.status === 401) {
        // Signed out in another tab: polling again cannot succeed until they sign back in.
        return setSignedOut(true);
      } else {
        misses += 1;
      }
      setFailures(misses);
      // Back off while the service is unreachable instead of hammering it.
      timer = setTimeout(poll, INTERVAL_MS * Math.min(1 + misses, 6));
    }

    timer = setTimeout(poll, kick > 0 ? 0 : INTERVAL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [orderId, active, kick, onOrder]);

  return { reconnecting: active && failures >= 3, signedOut };
}
