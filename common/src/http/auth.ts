import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import jwt from "jsonwebtoken";
import { NotAuthorizedError } from "../errors";
import { sessionToken } from "./session";

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

/**
 * The HMAC key as a KeyObject, made once per key: given a string, jsonwebtoken builds a new
 * KeyObject on every sign and verify, which a CPU profile of a service under load showed as
 * several percent of its time.
 */
const keyObjects = new Map<string, KeyObject>();
function keyObjectOf(key: string): KeyObject {
  let made = keyObjects.get(key);
  if (!made) {
    made = createSecretKey(Buffer.from(key));
    keyObjects.set(key, made);
  }
  return made;
}

/**
 * Signs the session token; `exp` makes a stolen cookie useless after the session's lifetime,
 * `sid` lets sign-out end it before then.
 */
export function signSessionToken(
  user: { id: string; email: string },
  key: string,
  expiresInSeconds: number,
  sessionId: string = randomUUID(),
): string {
  return jwt.sign({ id: user.id, email: user.email, sid: sessionId }, keyObjectOf(key), { expiresIn: expiresInSeconds, algorithm: "HS256" });
}

/**
 * Reads the JWT from the cookie session; a missing, tampered, expired or signed-out token (its
 * `sid` revoked) means "signed out". A token without a session id cannot be revoked, so it is
 * not accepted either.
 */
export function currentUser(jwtKey: string, isRevoked: (sessionId: string) => boolean = () => false) {
  const key = keyObjectOf(jwtKey);
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = sessionToken(req.headers.cookie);
    if (typeof token === "string") {
      try {
        const payload = jwt.verify(token, key, { algorithms: ["HS256"] }) as UserPayload;
        if (
          typeof payload.id === "string" &&
          typeof payload.email === "string" &&
          typeof payload.sid === "string" &&
          !isRevoked(payload.sid)
        ) {
          req.currentUser = payload;
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
