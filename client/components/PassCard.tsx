"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import QRCode from "qrcode";
import { api } from "../lib/api";
import type { Pass, PassCode } from "@ticketforge/common/api";
import { FormErrors } from "./FormErrors";
import { StatusBadge } from "./StatusBadge";
import { TextField } from "./TextField";

const statusLabel = { valid: "Valid", used: "Used at the door", transferred: "Transferred" } as const;
const statusTone = { valid: "success", used: "neutral", transferred: "neutral" } as const;

/** One pass: its rotating code as a QR code (fetched again when it expires), and its transfer form. */
export function PassCard({ pass }: { pass: Pass }) {
  return (
    <article className="card pass-card" aria-labelledby={`pass-${pass.id}`} data-testid="pass">
      <div className="pass-head">
        <h2 id={`pass-${pass.id}`}>{pass.ticket.title}</h2>
        <StatusBadge tone={statusTone[pass.status]} label={statusLabel[pass.status]} testId="pass-status" />
      </div>
      {pass.status === "valid" && <RotatingCode passId={pass.id} title={pass.ticket.title} />}
      {/* kept mounted as the page refreshes to "transferred", so its confirmation stays on screen */}
      {pass.status !== "used" && <TransferForm pass={pass} />}
    </article>
  );
}

function RotatingCode({ passId, title }: { passId: string; title: string }) {
  const [svg, setSvg] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [secondsLeft, setSecondsLeft] = useState<number | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let tick: ReturnType<typeof setInterval> | undefined;
    const load = async () => {
      const result = await api<PassCode>("GET", `/api/passes/${encodeURIComponent(passId)}/code`);
      if (stopped) return;
      if (!result.ok) {
        setError(result.errors[0].message);
        timer = setTimeout(load, 5_000);
        return;
      }
      setError(null);
      setCode(result.data.code);
      setSvg(await QRCode.toString(result.data.code, { type: "svg", errorCorrectionLevel: "M", margin: 2 }));
      const expiresAt = Date.parse(result.data.expiresAt);
      clearInterval(tick);
      tick = setInterval(() => setSecondsLeft(Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000))), 1_000);
      // the next window's code, a moment after this one ends
      timer = setTimeout(load, Math.max(1_000, expiresAt - Date.now() + 250));
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(tick);
    };
  }, [passId]);

  return (
    <div className="pass-code">
      {svg ? (
        // the SVG comes from the qrcode library, drawn from the service's code (base64url only)
        <div
          className="pass-qr"
          role="img"
          aria-label={`Door code for ${title}`}
          data-testid="pass-qr"
          data-code={code ?? ""}
          dangerouslySetInnerHTML={{ __html: svg }}
        />
      ) : (
        <p className="muted">Loading the door code…</p>
      )}
      {secondsLeft !== null && (
        <p className="muted" aria-live="off">
          New code in {secondsLeft} s
        </p>
      )}
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function TransferForm({ pass }: { pass: Pass }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<string[]>([]);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [sending, setSending] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSending(true);
    setErrors([]);
    setFieldError(undefined);
    const result = await api<{ id: string }>("POST", `/api/passes/${encodeURIComponent(pass.id)}/transfer`, { email });
    setSending(false);
    if (result.ok) {
      setDone(`Given to ${email}. This pass no longer works at the door.`);
      router.refresh();
      return;
    }
    const field = result.errors.find((x) => x.field === "email");
    if (field) setFieldError(field.message);
    else setErrors(result.errors.map((x) => x.message));
  }

  if (done) {
    return (
      <p className="alert alert-info" role="status">
        {done}
      </p>
    );
  }
  if (pass.status !== "valid") return null;
  return (
    <details className="pass-transfer">
      <summary>Give this pass to someone</summary>
      <form onSubmit={submit} noValidate aria-label={`Transfer ${pass.ticket.title}`}>
        <FormErrors messages={errors} />
        <TextField
          id={`transfer-${pass.id}`}
          label="Their email"
          hint="They need a TicketForge account. They get a new pass; this one stops working at once."
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError}
          required
        />
        <button type="submit" className="button button-primary" disabled={sending}>
          {sending ? "Transferring…" : "Transfer"}
        </button>
      </form>
    </details>
  );
}
