import { z } from "zod";
import { baseSettings, maxSessionSeconds, setting } from "@ticketforge/common";

/** Every environment variable the auth service reads (see .env.example). */
export const settings = {
  ...baseSettings("auth", 3001),
  /** Sign-up and sign-in attempts per client address per minute. */
  AUTH_RATE_LIMIT_PER_MINUTE: setting.positiveInt(30),
  /** Sign-in attempts on one account per window, from any address, before it answers 429. */
  AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT: setting.positiveInt(10),
  AUTH_SIGNIN_ACCOUNT_WINDOW_SECONDS: setting.positiveInt(900),
  /**
   * Cost of password hashing as log2 of scrypt's N (r=8, p=1). 17 is OWASP's minimum and the
   * least production accepts; tests may go lower to run fast.
   */
  AUTH_SCRYPT_LOG2_COST: z.coerce.number({ message: "must be a whole number" }).int().min(10).max(20).default(17),
  /** Lifetime of a session (the JWT's exp and the cookie's max age). */
  JWT_EXPIRES_IN_SECONDS: setting.positiveInt(86_400).refine((s) => s <= maxSessionSeconds, "must be at most 604800 (7 days)"),
};
