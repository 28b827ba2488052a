"use client";

import { useState } from "react";
import { api } from "../lib/api";
import { useAuthNavigation } from "./useAuthNavigation";

export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = useAuthNavigation();

  async function signOut() {
    setBusy(true);
    setError(null);
    const result = await api("POST", "/api/users/signout", {});
    if (result.ok) return go("/");
    setBusy(false);
    setError(result.errors[0].message);
  }

  return (
    <>
      <button type="button" className="button button-ghost button-small" onClick={signOut} disabled={busy}>
        {busy ? "Signing out…" : "Sign out"}
      </button>
      {error && (
        <span role="alert" className="header-error">
          {error}
        </span>
      )}
    </>
  );
}
