"use client";

import type { MouseEvent } from "react";

/** A real link to the next page (works before the scripts load), enhanced to append in place. */
export function LoadMore({
  href,
  loading,
  error,
  onLoad,
  label,
}: {
  href: string;
  loading: boolean;
  error: string | null;
  onLoad: () => void;
  label: string;
}) {
  function onClick(event: MouseEvent<HTMLAnchorElement>) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onLoad();
  }
  return (
    <div className="load-more">
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <a href={href} className="button button-secondary" onClick={onClick} aria-disabled={loading || undefined}>
        {loading ? "Loading…" : label}
      </a>
    </div>
  );
}
