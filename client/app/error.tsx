"use client";

import Link from "next/link";
import { useEffect } from "react";

export default function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <section className="state-panel" role="alert">
      <h1>Something went wrong</h1>
      <p>We could not show this page. It is not something you did — please try again in a moment.</p>
      <div className="state-actions">
        <button type="button" className="button button-primary" onClick={() => retry()}>
          Try again
        </button>
        <Link href="/" className="button button-secondary">
          Back to tickets
        </Link>
      </div>
    </section>
  );
}
