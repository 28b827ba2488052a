"use client";

import { useEffect, useRef, useState } from "react";

export function formatRemaining(totalSeconds: number): string {
  const s = Math.max(0, totalSeconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

interface Props {
  expiresAt: string;
  /** The server's clock when the page was rendered, so the first paint matches the HTML. */
  serverNow?: number;
  onExpire?: () => void;
}

export function Countdown({ expiresAt, serverNow, onExpire }: Props) {
  const target = Date.parse(expiresAt);
  const [now, setNow] = useState(() => serverNow ?? Date.now());
  const expiredFired = useRef(false);
  const remainingMs = Math.max(0, target - now);
  // Rounded up, so 0:00 shows exactly when the reservation ends.
  const seconds = Math.ceil(remainingMs / 1000);

  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    if (remainingMs === 0 && !expiredFired.current) {
      expiredFired.current = true;
      onExpire?.();
    }
  }, [remainingMs, onExpire]);

  const urgent = seconds <= 60;
  return (
    <div className={`countdown${urgent ? " countdown-urgent" : ""}`}>
      <span className="countdown-label" id="countdown-label">
        {seconds > 0 ? "Time left to pay" : "Time is up"}
      </span>
      <span role="timer" aria-labelledby="countdown-label" className="countdown-value" data-testid="countdown">
        {formatRemaining(seconds)}
      </span>
      {/* A timer is silent to screen readers; say once when time is nearly out. */}
      <span className="visually-hidden" aria-live="polite">
        {seconds > 0 && seconds <= 60 ? "Less than a minute left to pay." : ""}
      </span>
    </div>
  );
}
