import type { Metadata } from "next";
import { TicketForm } from "../../../components/TicketForm";
import { requireUser } from "../../../lib/session";

export const metadata: Metadata = { title: "Sell a ticket" };

export default async function SellPage() {
  await requireUser("/tickets/new");
  return (
    <section className="narrow">
      <h1>Sell a ticket</h1>
      <p className="muted">Buyers pay through TicketForge; you can change the title and price until someone reserves it.</p>
      <div className="card">
        <TicketForm />
      </div>
    </section>
  );
}
