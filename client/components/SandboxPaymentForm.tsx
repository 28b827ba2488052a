"use client";

import { useState, type FormEvent } from "react";
import { formatPrice } from "../lib/money";
import { payOrder, TEST_CARDS } from "../lib/payment";
import { FormErrors } from "./FormErrors";

export function SandboxPaymentForm({ orderId, price, onResult }: { orderId: string; price: number; onResult: (paid: boolean) => void }) {
  const [token, setToken] = useState<string>(TEST_CARDS[0].token);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setErrors([]);
    const result = await payOrder(orderId, token);
    setBusy(false);
    onResult(result.ok);
    if (!result.ok) setErrors(result.errors.map((e) => e.message));
  }

  return (
    <form className="form" onSubmit={onSubmit} aria-label="Payment">
      <fieldset className="choice-group">
        <legend className="field-label">Test card</legend>
        {TEST_CARDS.map((card) => (
          <label key={card.token} className="choice">
            <input type="radio" name="card" value={card.token} checked={token === card.token} onChange={() => setToken(card.token)} />
            <span className="choice-text">
              <span className="choice-title">{card.label}</span>
              <span className="choice-note">{card.note}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <p className="fine-print">Sandbox mode: these test cards never move real money.</p>
      <FormErrors messages={errors} />
      <button type="submit" className="button button-primary button-block button-large" disabled={busy}>
        {busy ? "Paying…" : `Pay ${formatPrice(price)}`}
      </button>
    </form>
  );
}
