import type { Metadata } from "next";
import Link from "next/link";
import { ErrorState } from "../../components/ErrorState";
import { PassCard } from "../../components/PassCard";
import { serverGet } from "../../lib/server-api";
import { requireUser } from "../../lib/session";
import type { Pass } from "@ticketforge/common/api";

export const metadata: Metadata = { title: "My passes" };

/** The buyer's passes for the door: each valid one with its rotating QR code and a transfer form. */
export default async function MyPassesPage() {
  await requireUser("/passes");
  const result = await serverGet<Pass[]>("/api/passes");
  return (
    <>
      <div className="page-header">
        <div>
          <h1>My passes</h1>
          <p className="muted">Show the code at the door. It changes every 30 seconds, so a screenshot will not get you in.</p>
        </div>
      </div>
      {!result.ok ? (
        <ErrorState title="Your passes could not be loaded" message={result.errors[0].message} retryHref="/passes" />
      ) : result.data.length === 0 ? (
        <section className="empty-state">
          <h2>No passes yet</h2>
          <p>When you pay for a ticket, or someone gives you one, its pass shows up here.</p>
          <Link href="/" className="button button-primary">
            Find tickets
          </Link>
        </section>
      ) : (
        <ul className="pass-list" aria-label="My passes">
          {result.data.map((pass) => (
            <li key={pass.id}>
              <PassCard pass={pass} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
