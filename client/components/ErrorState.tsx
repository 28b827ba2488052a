import Link from "next/link";

/** A page-level message for when the data behind a page could not be loaded. */
export function ErrorState({
  title = "This page could not be loaded",
  message,
  retryHref,
}: {
  title?: string;
  message: string;
  retryHref?: string;
}) {
  return (
    <section className="state-panel" role="alert">
      <h1>{title}</h1>
      <p>{message}</p>
      <div className="state-actions">
        {retryHref && (
          <a href={retryHref} className="button button-primary">
            Try again
          </a>
        )}
        <Link href="/" className="button button-secondary">
          Back to tickets
        </Link>
      </div>
    </section>
  );
}
