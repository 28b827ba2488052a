"use client";

import Link from "next/link";
import type { FormEvent } from "react";
import { api } from "../lib/api";
import type { User } from "@ticketforge/common/api";
import { validateCredentials, type AuthMode } from "../lib/validation";
import { FormErrors } from "./FormErrors";
import { TextField } from "./TextField";
import { useAuthNavigation } from "./useAuthNavigation";
import { useFormFields } from "./useFormFields";

const copy = {
  signup: { submit: "Create account", busy: "Creating account…", path: "/api/users/signup" },
  signin: { submit: "Sign in", busy: "Signing in…", path: "/api/users/signin" },
} as const;

export function AuthForm({ mode, next }: { mode: AuthMode; next: string }) {
  const form = useFormFields({ email: "", password: "" });
  const go = useAuthNavigation();
  const id = mode;

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { errors, value } = validateCredentials(form.values, mode);
    if (!form.check(errors, id)) return;
    form.setSubmitting(true);
    const result = await api<User>("POST", copy[mode].path, value);
    if (result.ok) return go(next);
    form.setSubmitting(false);
    form.showApiErrors(result.errors, id);
  }

  const other = mode === "signup" ? "/auth/signin" : "/auth/signup";
  const otherHref = next === "/" ? other : `${other}?next=${encodeURIComponent(next)}`;

  return (
    // method="post" keeps the password out of the URL if it is submitted before the scripts load.
    <form className="form" method="post" onSubmit={onSubmit} noValidate aria-label={mode === "signup" ? "Sign up" : "Sign in"}>
      <FormErrors messages={form.formErrors} />
      <TextField
        id={`${id}-email`}
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        value={form.values.email}
        onChange={(e) => form.setValue("email", e.target.value)}
        error={form.fieldErrors.email}
        required
      />
      <TextField
        id={`${id}-password`}
        label="Password"
        type="password"
        name="password"
        autoComplete={mode === "signup" ? "new-password" : "current-password"}
        hint={mode === "signup" ? "At least 8 characters." : undefined}
        value={form.values.password}
        onChange={(e) => form.setValue("password", e.target.value)}
        error={form.fieldErrors.password}
        required
      />
      <button type="submit" className="button button-primary button-block" disabled={form.submitting}>
        {form.submitting ? copy[mode].busy : copy[mode].submit}
      </button>
      <p className="form-footer">
        {mode === "signup" ? "Already have an account? " : "New to TicketForge? "}
        <Link href={otherHref}>{mode === "signup" ? "Sign in" : "Create an account"}</Link>
      </p>
    </form>
  );
}
