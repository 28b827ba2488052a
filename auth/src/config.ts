import { baseSettings, maxSessionSeconds, setting } from "@ticketforge/common";

/** Every environment variable the auth service reads (see .env.example). */
export const settings = {
  ...baseSettings("auth", 3001),
  /** Sign-up and sign-in attempts per client address per minute. */
  AUTH_RATE_LIMIT_PER_MINUTE: setting.positiveInt(30),
  /** Lifetime of a session (the JWT's exp and the cookie's max age). */
  JWT_EXPIRES_IN_SECONDS: setting.positiveInt(86_400).refine((s) => s <= maxSessionSeconds, "must be at most 604800 (7 days)"),
};
