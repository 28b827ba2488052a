import Link from "next/link";

export default function NotFound() {
  return (
    <section className="state-panel">
      <p className="state-code" aria-hidden="true">
        404
      </p>
      <h1>Page not found</h1>
      <p>The page or ticket you are looking for does not exist — it may have been removed, or the link has a typo.</p>
      <div className="state-actions">
        <Link href="/" className="button button-primary">
          Browse tickets
        </Link>
      </div>
    </section>
  );
}
