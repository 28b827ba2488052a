import { isIP } from "node:net";
import { rateLimit, RateLimiter, type Queryable } from "@ticketforge/common";

/**
 * The network an address belongs to, as limits count it: an IPv4 address itself, an IPv6
 * address's /64 (one subscriber's allocation: rotating addresses within it changes nothing).
 */
export function networkOf(address: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1];
  if (!isIP(address)) return address;
  const [head, tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * Sign-up and sign-in attempts per client network (networkOf) per minute. The address is req.ip, which
 * honours X-Forwarded-For only from the trusted proxy (TRUST_PROXY), so users behind the gateway
 * are not limited as one. The counters are in the database, so every replica counts the same hits.
 */
export function addressLimit(db: Queryable, perMinute: number) {
  return rateLimit(db, {
    name: "auth-address",
    limit: perMinute,
    windowSeconds: 60,
    key: (req) => networkOf(req.ip ?? req.socket.remoteAddress ?? "unknown"),
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
