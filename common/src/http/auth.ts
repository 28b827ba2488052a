import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { jwtVerify, SignJWT } from "jose";
import { NotAuthorizedError } from "../errors";
import { sessionToken } from "./session";
import { sessionPrivateKey, sessionPublicKey } from "./session-keys";

export interface UserPayload {
  id: string;
  email: string;
  /** The session's own id: sign-out revokes it. */
  sid: string;
  iat: number;
  exp: number;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      currentUser?: UserPayload;
    }
  }
}

/** Signs a session token with auth's private key (Ed25519, JWS alg EdDSA). */
export async function signSessionToken(
  user: { id: string; email: string },
  privateKeyPem: string,
  expiresInSeconds: number,
  sessionId: string = randomUUID(),
): Promise<string> {
  // `exp` makes a stolen cookie useless after the session's lifetime, `sid` lets sign-out end it before then
  return new SignJWT({ id: user.id, email: user.email, sid: sessionId })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(sessionPrivateKey(privateKeyPem));
}

/**
 * Reads the JWT from the cookie session and verifies it with the public key; a missing,
 * tampered, expired or signed-out token (its `sid` revoked), or one signed any other way than
 * EdDSA (an HS256 token "signed" with the public key, say), means "signed out". A token without
 * a session id cannot be revoked, so it is not accepted either.
 */
export function currentUser(publicKeyPem: string, isRevoked: (sessionId: string) => boolean = () => false, secureCookie = false) {
  const key = sessionPublicKey(publicKeyPem);
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = sessionToken(req.headers.cookie, secureCookie);
    if (typeof token === "string") {
      try {
        const { payload } = await jwtVerify<Partial<UserPayload>>(token, key, { algorithms: ["EdDSA"], requiredClaims: ["exp", "iat"] });
        if (
          typeof payload.id === "string" &&
          typeof payload.email === "string" &&
          typeof payload.sid === "string" &&
          !isRevoked(payload.sid)
        ) {
          req.currentUser = payload as UserPayload;
        }
      } catch {
        // invalid or expired: treated as signed out
      }
    }
    next();
  };
}

export function requireAuth(req: Request, _res: Response, next: NextFunction) {
  if (!req.currentUser) throw new NotAuthorizedError();
  next();
}

/** The signed-in user; only call after requireAuth. */
export function userOf(req: Request): UserPayload {
  if (!req.currentUser) throw new NotAuthorizedError();
  return req.currentUser;
}
