import { z } from "zod";

/** Money is integer cents everywhere inside; JSON shows currency units (20.5). */
export function toCents(units: number): number {
  // 20.1 * 100 is 2010.0000000000002 in floating point: round, never truncate
  return Math.round(units * 100);
}

export function fromCents(cents: number): number {
  return cents / 100;
}

/** A price as users type it: > 0, at most 2 decimals, at most 1,000,000. Accepts 20, 20.5, "20.50". */
export const priceInput = z
  .union(
    [
      z.number(),
      z
        .string()
        .trim()
        .regex(/^\d+(\.\d+)?$/, "must be a number")
        .transform(Number),
    ],
    {
      message: "must be a number",
    },
  )
  .pipe(
    z
      .number({ message: "must be a number" })
      .refine((n) => Number.isFinite(n), "must be a number")
      .refine((n) => n > 0, "must be greater than 0")
      // 1e-9 is greater than 0 but rounds to 0 cents, which the database refuses
      .refine((n) => toCents(n) >= 1, "must be at least 0.01")
      .refine((n) => n <= 1_000_000, "must be at most 1,000,000")
      .refine((n) => Math.abs(toCents(n) - n * 100) < 1e-6, "must have at most 2 decimals"),
  );
