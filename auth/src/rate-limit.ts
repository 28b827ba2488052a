import { rateLimit, RateLimiter, type Queryable } from "@ticketforge/common";

/**
 * Sign-up and sign-in attempts per client address per minute. The address is req.ip, which
 * honours X-Forwarded-For only from the trusted proxy (TRUST_PROXY), so users behind the gateway
 * are not limited as one. The counters are in the database, so every replica counts the same hits.
 */
export function addressLimit(db: Queryable, perMinute: number) {
  return rateLimit(db, {
    name: "auth-address",
    limit: perMinute,
    windowSeconds: 60,
    key: (req) => req.ip ?? req.socket.remoteAddress ?? "unknown",
    message: (s) => `Too many attempts, try again in ${s} seconds`,
  });
}

/**
 * Sign-in attempts per account since its last successful sign-in, whatever the address they
 * come from: a guesser who changes address every request still gets this many guesses per
 * window, and the owner's next successful sign-in starts the count again.
 */
export function accountLimiter(db: Queryable, attempts: number, windowSeconds: number) {
  return new RateLimiter(db, { name: "auth-account", limit: attempts, windowSeconds });
}
