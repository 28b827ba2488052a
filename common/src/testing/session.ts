import { randomUUID, sign } from "node:crypto";
import { sessionPrivateKey } from "../http/session-keys";

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * A session cookie for a user, made the way the auth service makes it (cookie-session's base64
 * JSON holding an EdDSA JWT), so other services' tests can act as a signed-in user. Signed here
 * with node:crypto rather than jose's async SignJWT so that tests can make one in an expression;
 * the services verify it with jose like any other.
 */
export function signInCookie(
  privateKeyPem: string,
  user: { id?: string; email?: string } = {},
  expiresInSeconds = 3600,
): { cookie: string; id: string; email: string } {
  const id = user.id ?? randomUUID();
  const email = user.email ?? `${id.slice(0, 8)}@example.com`;
  const jwt = signedToken({ id, email, sid: randomUUID() }, privateKeyPem, expiresInSeconds);
  const value = Buffer.from(JSON.stringify({ jwt })).toString("base64");
  return { cookie: `session=${value}`, id, email };
}

/** A compact JWS (EdDSA) of `claims` with iat and exp. */
export function signedToken(claims: Record<string, unknown>, privateKeyPem: string, expiresInSeconds = 3600): string {
  const iat = Math.floor(Date.now() / 1000);
  const input = `${base64url(JSON.stringify({ alg: "EdDSA", typ: "JWT" }))}.${base64url(JSON.stringify({ ...claims, iat, exp: iat + expiresInSeconds }))}`;
  return `${input}.${base64url(sign(null, Buffer.from(input), sessionPrivateKey(privateKeyPem)))}`;
}
