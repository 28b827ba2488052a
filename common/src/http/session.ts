import cookieSession from "cookie-session";
import type { RequestHandler } from "express";

/**
 * The session cookie: base64 JSON `{ "jwt": … }`, the JWT signed by the auth service. Only the
 * routes that start or end a session write it (`sessionWriter`); every request of every service
 * reads it (`sessionToken`, in sessionReader). Reading is a plain parse of the Cookie header:
 * cookie-session on every request cost its machinery (a cookie jar and a hook on the response
 * headers) even where nothing is ever written, about 8 % of a bare Express route.
 */
export const sessionCookieName = "session";

/**
 * The cookie's name. Over HTTPS (COOKIE_SECURE) it is `__Host-session`: a browser takes a cookie
 * of that name only from this very host, over HTTPS, for the path /, so a page of a sibling
 * subdomain or a plain-HTTP answer cannot plant one that would be sent first and win. The plain
 * `session` cookie is then not read at all.
 */
export const sessionCookieNameFor = (secure: boolean) => (secure ? `__Host-${sessionCookieName}` : sessionCookieName);

/** The JWT in a request's session cookie; undefined when the cookie is absent or unreadable. */
export function sessionToken(cookieHeader: string | undefined, secure = false): string | undefined {
  const value = cookieValue(cookieHeader, sessionCookieNameFor(secure));
  if (!value) return undefined;
  try {
    const session = JSON.parse(Buffer.from(value, "base64").toString("utf8")) as { jwt?: unknown } | null;
    return typeof session?.jwt === "string" ? session.jwt : undefined;
  } catch {
    return undefined;
  }
}

/** The first cookie called `name` in a Cookie header (RFC 6265: `a=1; b=2`), as sent. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) {
      const value = pair.slice(eq + 1).trim();
      return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
    }
  }
  return undefined;
}

/**
 * Lets the routes after it set `req.session = { jwt }` (sign-up, sign-in) or `null` (sign-out),
 * which writes or clears the cookie: HTTP only, SameSite=Lax, Secure where the site is served
 * over HTTPS (COOKIE_SECURE).
 */
export function sessionWriter(options: { secure: boolean; maxAgeMs?: number }): RequestHandler {
  return cookieSession({
    name: sessionCookieNameFor(options.secure),
    signed: false, // the JWT inside is signed; tampering makes it invalid
    httpOnly: true,
    sameSite: "lax",
    secure: options.secure,
    maxAge: options.maxAgeMs ?? 24 * 3600 * 1000,
  });
}
