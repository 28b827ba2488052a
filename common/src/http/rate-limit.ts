import { isIP } from "node:net";
import type { NextFunction, Request, Response } from "express";
import { sql, type RawBuilder } from "kysely";
import type { Queryable } from "../db/database";
import { TooManyRequestsError } from "../errors";

export interface RateLimitOptions {
  /** Names the counter family, e.g. "signin-ip"; keys of different limiters never meet. */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface RateCount {
  hits: number;
  /** Seconds until the current window ends and the count starts again. */
  retryAfterSeconds: number;
}

/**
 * A counter per key kept in the service's database (table rate_limits), so that every replica
 * sees the same count: a limit of 30 stays 30 whatever the number of replicas. A key's window
 * opens at its first hit and lasts windowSeconds. One statement per hit; the time is the
 * database's clock, not each replica's.
 */
export class RateLimiter {
  constructor(
    private readonly db: Queryable,
    readonly options: RateLimitOptions,
  ) {}

  private keyOf(key: string) {
    return `${this.options.name}:${key}`;
  }

  private upsert(key: string) {
    const window = sql`make_interval(secs => ${this.options.windowSeconds})`;
    return sql`insert into rate_limits (key, window_start, hits)
      values (${this.keyOf(key)}, now(), 1)
      on conflict (key) do update set
        hits = case when rate_limits.window_start > now() - ${window} then rate_limits.hits + 1 else 1 end,
        window_start = case when rate_limits.window_start > now() - ${window} then rate_limits.window_start else now() end
      returning hits, ceil(extract(epoch from window_start + ${window} - now()))::int as retry`;
  }

  /** Counts one hit for `key` and returns the count in the current window, this hit included. */
  async hit(key: string): Promise<RateCount> {
    const r = await sql<{ hits: number; retry: number }>`${this.upsert(key)}`.execute(this.db);
    this.sometimesForgetOld();
    return { hits: r.rows[0].hits, retryAfterSeconds: Math.max(1, r.rows[0].retry) };
  }

  /**
   * Counts one hit for `key` and reads `also` in the same statement (one round trip, outside any
   * transaction): a route's first look, which can refuse at once (the limit used up, or what
   * `also` says) before any transaction or lock. A later statement that must do its work only
   * within the limit checks `withinLimit`, which this hit is already part of.
   */
  async hitAnd<T>(key: string, also: RawBuilder<T>): Promise<{ count: RateCount; also: T }> {
    const r = await sql<{ hits: number; retry: number; also: T }>`with hit as (${this.upsert(key)})
      select hits, retry, (${also}) as also from hit`.execute(this.db);
    this.sometimesForgetOld();
    const row = r.rows[0];
    return { count: { hits: row.hits, retryAfterSeconds: Math.max(1, row.retry) }, also: row.also };
  }

  /** A condition, true while `key`'s count (this transaction's hit included) is within the limit. */
  withinLimit(key: string) {
    return sql<boolean>`coalesce((select hits from rate_limits where key = ${this.keyOf(key)}), 0) <= ${this.options.limit}`;
  }

  /** The count in the current window without adding to it (0 when there is none). */
  async peek(key: string): Promise<RateCount> {
    const w = this.options.windowSeconds;
    const window = sql`make_interval(secs => ${w})`;
    const r = await sql<{ hits: number; retry: number }>`
      select hits, ceil(extract(epoch from window_start + ${window} - now()))::int as retry
      from rate_limits
      where key = ${this.keyOf(key)} and window_start > now() - ${window}`.execute(this.db);
    const row = r.rows[0];
    return row ? { hits: row.hits, retryAfterSeconds: Math.max(1, row.retry) } : { hits: 0, retryAfterSeconds: 0 };
  }

  /** Takes back one hit of `key` (an attempt counted beforehand that turned out not to count). */
  async release(key: string): Promise<void> {
    await sql`update rate_limits set hits = greatest(hits - 1, 0) where key = ${this.keyOf(key)}`.execute(this.db);
  }

  async reset(key: string): Promise<void> {
    await sql`delete from rate_limits where key = ${this.keyOf(key)}`.execute(this.db);
  }

  /** Throws a 429 with Retry-After when `key` has used up its window, else counts the hit. */
  async consume(key: string, res: Response, message: (seconds: number) => string): Promise<void> {
    const count = await this.hit(key);
    if (count.hits > this.options.limit) throw tooMany(res, count.retryAfterSeconds, message);
  }

  /** Counters of windows long gone are dead weight: dropped now and then, by whichever replica. */
  /** About one hit in a hundred also deletes this limiter's ended windows, off the hit's path. */
  private sometimesForgetOld() {
    if (Math.random() < 0.01) void this.forgetOld().catch(() => undefined);
  }

  private async forgetOld() {
    await sql`delete from rate_limits where window_start < now() - make_interval(secs => ${this.options.windowSeconds})
      and key like ${`${this.options.name}:%`}`.execute(this.db);
  }
}

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
 * The client's network (networkOf) of a request. The address is req.ip, which honours
 * X-Forwarded-For only from the trusted proxy (TRUST_PROXY), so that clients behind the gateway
 * are not counted as one.
 */
export function clientNetwork(req: Request): string {
  return networkOf(req.ip ?? req.socket.remoteAddress ?? "unknown");
}

export function tooMany(res: Response, seconds: number, message: (seconds: number) => string): TooManyRequestsError {
  res.setHeader("Retry-After", String(seconds));
  return new TooManyRequestsError(message(seconds));
}

/**
 * Express middleware: at most `limit` requests per window for each key (`key(req)`: the client
 * address, the signed-in user…); a request without a key is not counted.
 */
export function rateLimit(
  db: Queryable,
  options: RateLimitOptions & { key: (req: Request) => string | undefined; message?: (seconds: number) => string },
) {
  const limiter = new RateLimiter(db, options);
  const message = options.message ?? ((s: number) => `Too many requests, try again in ${s} seconds`);
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = options.key(req);
    if (key === undefined) return next();
    await limiter.consume(key, res, message);
    next();
  };
}
