"use client";

import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { api } from "../lib/api";
import type { Ticket } from "@ticketforge/common/api";
import { validateTicket } from "../lib/validation";
import { FormErrors } from "./FormErrors";
import { TextField } from "./TextField";
import { useFormFields } from "./useFormFields";

/** Creates a ticket, or edits `ticket` when given. */
export function TicketForm({ ticket }: { ticket?: Pick<Ticket, "id" | "title" | "price"> }) {
  const router = useRouter();
  const form = useFormFields({ title: ticket?.title ?? "", price: ticket ? ticket.price.toFixed(2) : "" });
  const id = "ticket";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { errors, value } = validateTicket(form.values);
    if (!form.check(errors, id)) return;
    form.setSubmitting(true);
    const result = ticket ? await api<Ticket>("PUT", `/api/tickets/${ticket.id}`, value) : await api<Ticket>("POST", "/api/tickets", value);
    if (result.ok) return router.push(`/tickets/${result.data.id}`);
    form.setSubmitting(false);
    form.showApiErrors(result.errors, id);
  }

  return (
    <form className="form" onSubmit={onSubmit} noValidate aria-label={ticket ? "Edit ticket" : "Sell a ticket"}>
      <FormErrors messages={form.formErrors} />
      <TextField
        id={`${id}-title`}
        label="Title"
        name="title"
        hint="What, where and when — e.g. “Arctic Monkeys, Wembley, 14 June”."
        maxLength={250}
        autoComplete="off"
        value={form.values.title}
        onChange={(e) => form.setValue("title", e.target.value)}
        error={form.fieldErrors.title}
        required
      />
      <TextField
        id={`${id}-price`}
        label="Price"
        name="price"
        prefix="$"
        inputMode="decimal"
        hint="In US dollars, up to $1,000,000 — e.g. 20, 20.5 or 20.50."
        autoComplete="off"
        className="field-price"
        value={form.values.price}
        onChange={(e) => form.setValue("price", e.target.value)}
        error={form.fieldErrors.price}
        required
      />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={form.submitting}>
          {form.submitting ? "Saving…" : ticket ? "Save changes" : "List ticket for sale"}
        </button>
      </div>
    </form>
  );
}
