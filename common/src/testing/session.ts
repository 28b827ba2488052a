import { randomUUID } from "node:crypto";
import { signSessionToken } from "../http/auth";

/**
 * A session cookie for a user, made the way the auth service makes it (cookie-session's
 * base64 JSON holding the JWT), so other services' tests can act as a signed-in user.
 */
export function signInCookie(
  key: string,
  user: { id?: string; email?: string } = {},
  expiresInSeconds = 3600,
): { cookie: string; id: string; email: string } {
  const id = user.id ?? randomUUID();
  const email = user.email ?? `${id.slice(0, 8)}@example.com`;
  const jwt = signSessionToken({ id, email }, key, expiresInSeconds);
  const value = Buffer.from(JSON.stringify({ jwt })).toString("base64");
  return { cookie: `session=${value}`, id, email };
}
