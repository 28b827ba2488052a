"use client";

import { useState } from "react";
import { splitErrors } from "../lib/api-result";
import type { ApiErrorItem } from "@ticketforge/common/api";

/** Field values, per-field errors and form-level errors, shared by every form. */
export function useFormFields<K extends string>(initial: Record<K, string>) {
  const fields = Object.keys(initial) as K[];
  const [values, setValues] = useState(initial);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<K, string>>>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  function setValue(name: K, value: string) {
    setValues((v) => ({ ...v, [name]: value }));
    // The message described the old value; keep it only until the person edits the field.
    setFieldErrors((e) => (e[name] ? { ...e, [name]: undefined } : e));
  }

  /** Shows client-side errors; returns true when there are none. Focuses the first bad field. */
  function check(errors: Partial<Record<K, string>>, idPrefix: string): boolean {
    setFieldErrors(errors);
    setFormErrors([]);
    const first = fields.find((f) => errors[f]);
    if (first) document.getElementById(`${idPrefix}-${first}`)?.focus();
    return !first;
  }

  function showApiErrors(errors: ApiErrorItem[], idPrefix: string) {
    const split = splitErrors(errors, fields);
    setFieldErrors(split.fieldErrors as Partial<Record<K, string>>);
    setFormErrors(split.formErrors);
    const first = fields.find((f) => split.fieldErrors[f]);
    if (first) document.getElementById(`${idPrefix}-${first}`)?.focus();
  }

  return { values, setValue, fieldErrors, formErrors, submitting, setSubmitting, check, showApiErrors };
}
