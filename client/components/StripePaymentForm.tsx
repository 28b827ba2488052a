"use client";

import { useEffect, useRef, useState, type FormEvent } from "react";
import { formatPrice } from "../lib/money";
import { payOrder } from "../lib/payment";
import { FormErrors } from "./FormErrors";

// The small part of Stripe.js v3 this form uses.
interface StripeCard {
  mount(el: HTMLElement): void;
  destroy(): void;
  on(event: "change", handler: (e: { error?: { message: string } }) => void): void;
}
interface StripeJs {
  elements(): { create(type: "card", options?: object): StripeCard };
  createToken(card: StripeCard): Promise<{ token?: { id: string }; error?: { message: string } }>;
}
declare global {
  interface Window {
    Stripe?: (publishableKey: string) => StripeJs;
  }
}

let loading: Promise<NonNullable<Window["Stripe"]>> | null = null;

// Only reached when a publishable key is configured; sandbox mode never loads anything remote.
function loadStripeJs() {
  loading ??= new Promise((resolve, reject) => {
    if (window.Stripe) return resolve(window.Stripe);
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.async = true;
    script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error("Stripe.js did not load")));
    script.onerror = () => {
      loading = null;
      reject(new Error("Stripe.js did not load"));
    };
    document.head.appendChild(script);
  });
  return loading;
}

export function StripePaymentForm({
  publishableKey,
  orderId,
  price,
  onResult,
}: {
  publishableKey: string;
  orderId: string;
  price: number;
  onResult: (paid: boolean) => void;
}) {
  const mountRef = useRef<HTMLDivElement>(null);
  const stripe = useRef<{ js: StripeJs; card: StripeCard } | null>(null);
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);

  useEffect(() => {
    let card: StripeCard | undefined;
    loadStripeJs()
      .then((Stripe) => {
        if (!mountRef.current) return;
        const js = Stripe(publishableKey);
        card = js.elements().create("card", { style: { base: { fontSize: "16px", color: "#0f172a" } } });
        card.mount(mountRef.current);
        card.on("change", (e) => setErrors(e.error ? [e.error.message] : []));
        stripe.current = { js, card };
        setReady(true);
      })
      .catch(() => setErrors(["The card form could not be loaded. Check your connection and reload the page."]));
    return () => card?.destroy();
  }, [publishableKey]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!stripe.current) return;
    setBusy(true);
    setErrors([]);
    const { token, error } = await stripe.current.js.createToken(stripe.current.card);
    const result = token ? await payOrder(orderId, token.id) : null;
    setBusy(false);
    if (result) onResult(result.ok);
    if (result?.ok) return;
    setErrors([error?.message ?? result?.errors.map((e) => e.message).join(" ") ?? "The payment did not go through."]);
  }

  return (
    <form className="form" onSubmit={onSubmit} aria-label="Payment">
      <div className="field">
        <span className="field-label" id="card-label">
          Card
        </span>
        <div ref={mountRef} className="input stripe-card" role="group" aria-labelledby="card-label" />
      </div>
      <FormErrors messages={errors} />
      <button type="submit" className="button button-primary button-block button-large" disabled={!ready || busy}>
        {busy ? "Paying…" : `Pay ${formatPrice(price)}`}
      </button>
    </form>
  );
}
