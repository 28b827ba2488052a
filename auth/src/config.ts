import { baseSettings, maxSessionSeconds, sessionKeySetting, setting } from "@ticketforge/common";

/** Every environment variable the auth service reads (see .env.example). */
export const settings = {
  ...baseSettings("auth", 3001),
  /** Sign-up and sign-in attempts per client address per minute. */
  AUTH_RATE_LIMIT_PER_MINUTE: setting.positiveInt(30),
  /** Sign-in attempts on one account from one network (an IPv4 address, an IPv6 /64) per window before it answers 429 there. */
  AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT: setting.positiveInt(10),
  /**
   * Sign-in attempts on one account per window from networks it never signed in from, together,
   * before those answer 429; the owner's known networks are not affected.
   */
  AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT_FROM_NEW_NETWORKS: setting.positiveInt(50),
  AUTH_SIGNIN_ACCOUNT_WINDOW_SECONDS: setting.positiveInt(900),
  /**
   * Password hashes (Argon2id, 19 MiB each) computed at once; further sign-ups and sign-ins wait.
   * Bounds the memory a burst of sign-ins can take: 2 is about 40 MiB.
   */
  AUTH_HASH_CONCURRENCY: setting.positiveInt(2).refine((n) => n <= 16, "must be at most 16"),
  /** Sign-ups and sign-ins that may wait for a hash; past that they answer 503 with Retry-After. */
  AUTH_HASH_QUEUE: setting.positiveInt(200),
  /** The Ed25519 private key (PEM) that signs session tokens: auth's alone, never given to another service. */
  JWT_PRIVATE_KEY: sessionKeySetting("private"),
  /** Lifetime of a session (the JWT's exp and the cookie's max age). */
  JWT_EXPIRES_IN_SECONDS: setting.positiveInt(86_400).refine((s) => s <= maxSessionSeconds, "must be at most 604800 (7 days)"),
};
