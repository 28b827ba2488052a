import { rateLimit as limiter } from "express-rate-limit";
import { TooManyRequestsError } from "@ticketforge/common";

/**
 * Attempts per client address per minute. The address is req.ip, which honours X-Forwarded-For
 * only from the trusted proxy (TRUST_PROXY), so users behind the gateway are not limited as one.
 */
export function rateLimit(perMinute: number) {
  return limiter({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    handler: (req, res, next) => {
      const resetTime = (req as unknown as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
      res.setHeader("Retry-After", String(seconds));
      next(new TooManyRequestsError(`Too many attempts, try again in ${seconds} seconds`));
    },
  });
}
