import { clientNetwork, rateLimit, RateLimiter, type Queryable } from "@ticketforge/common";

/**
 * Sign-up and sign-in attempts per client network (clientNetwork: an IPv4 address, an IPv6 /64) per
 * minute. The counters are in the database, so every replica counts the same hits.
 */
export function addressLimit(db: Queryable, perMinute: number) {
  return rateLimit(db, {
    name: "auth-address",
    limit: perMinute,
    windowSeconds: 60,
    key: clientNetwork,
    message: (s) => `Too many attempts, try again in ${s} seconds`,
  });
}

/**
 * Sign-in attempts on one account, counted two ways since its last successful sign-in:
 * - per account and network: a guesser locks out their own network, never the owner's;
 * - per account over networks it never signed in from (a higher limit): a guesser who changes
 *   network every request still gets only this many guesses per window, and meanwhile the owner
 *   still signs in from the networks they used before (known_networks).
 */
export function accountLimiters(db: Queryable, perNetwork: number, fromNewNetworks: number, windowSeconds: number) {
  return {
    perNetwork: new RateLimiter(db, { name: "auth-account-network", limit: perNetwork, windowSeconds }),
    fromNewNetworks: new RateLimiter(db, { name: "auth-account", limit: fromNewNetworks, windowSeconds }),
  };
}

export type AccountLimiters = ReturnType<typeof accountLimiters>;
