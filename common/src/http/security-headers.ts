import type { NextFunction, Request, Response } from "express";

/**
 * Headers every API answer carries, errors and health checks included. The API only ever
 * answers JSON, so its policy allows nothing to load or run, and no page may frame it.
 */
export const apiSecurityHeaders: Record<string, string> = {
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export function securityHeaders(req: Request, res: Response, next: NextFunction) {
  for (const [name, value] of Object.entries(apiSecurityHeaders)) res.setHeader(name, value);
  // An answer to a request that carries a session is that user's: no browser or proxy cache may
  // keep it (a shared computer's back button, a caching proxy answering another user).
  if (/(?:^|;\s*)(?:__Host-)?session=/.test(req.headers.cookie ?? "")) res.setHeader("Cache-Control", "no-store");
  next();
}
