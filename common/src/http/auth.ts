import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { decodeJwt, jwtVerify, SignJWT } from "jose";
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
      /** The verified user, set by requireAuth: read it with userOf. */
      currentUser?: UserPayload;
      /** The request's session cookie, verified only when a route asks (see sessionReader). */
      sessionCheck?: SessionCheck;
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
 * The session of one request, checked when a route first asks for it and not before: a public
 * read that carries a cookie (the listing every buyer opens) costs no signature check unless what
 * it shows depends on who asks.
 */
export class SessionCheck {
  private checked?: Promise<UserPayload | undefined>;
  constructor(
    private readonly token: string | undefined,
    private readonly verify: (token: string) => Promise<UserPayload | undefined>,
  ) {}

  /**
   * The signed-in user: the token verified with the public key, then asked about revocation. A
   * missing, tampered, expired or signed-out token (its `sid` revoked), or one signed any other
   * way than EdDSA (an HS256 token "signed" with the public key, say), means "signed out"; so
   * does a token without a session id, which could not be revoked.
   */
  user(): Promise<UserPayload | undefined> {
    return (this.checked ??= this.token === undefined ? Promise.resolve(undefined) : this.verify(this.token));
  }

  /**
   * The user id the token claims, NOT verified: only for deciding whether the check is worth
   * making (does any row of this page belong to that id?). Never shown, never trusted.
   */
  claimedUserId(): string | undefined {
    if (this.token === undefined) return undefined;
    try {
      const { id } = decodeJwt(this.token);
      return typeof id === "string" ? id : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Gives every request its SessionCheck, from the session cookie; nothing is verified here.
 * Verified tokens are remembered by this process until they expire, revocation is asked at every
 * check.
 */
export function sessionReader(publicKeyPem: string, isRevoked: (sessionId: string) => boolean = () => false, secureCookie = false) {
  const key = sessionPublicKey(publicKeyPem);
  const verified = new VerifiedTokens();
  const verify = async (token: string): Promise<UserPayload | undefined> => {
    try {
      let user = verified.get(token);
      if (!user) {
        const { payload } = await jwtVerify<Partial<UserPayload>>(token, key, { algorithms: ["EdDSA"], requiredClaims: ["exp", "iat"] });
        if (typeof payload.id !== "string" || typeof payload.email !== "string" || typeof payload.sid !== "string") return undefined;
        user = payload as UserPayload;
        verified.set(token, user);
      }
      // a signed-out session ends at once, remembered or not
      return isRevoked(user.sid) ? undefined : user;
    } catch {
      return undefined; // invalid or expired: signed out
    }
  };
  return (req: Request, _res: Response, next: NextFunction) => {
    req.sessionCheck = new SessionCheck(sessionToken(req.headers.cookie, secureCookie), verify);
    next();
  };
}

/** The signed-in user, or undefined for a visitor; verifies the session on first use. */
export function sessionUser(req: Request): Promise<UserPayload | undefined> {
  return req.sessionCheck?.user() ?? Promise.resolve(undefined);
}

/**
 * The signed-in user when `wanted` says the answer depends on the id the cookie claims (a page
 * with a row of that seller, say), else undefined without a check: the answer is then the same
 * for that user as for a visitor.
 */
export async function sessionUserIf(req: Request, wanted: (claimedUserId: string) => boolean): Promise<UserPayload | undefined> {
  const claimed = req.sessionCheck?.claimedUserId();
  return claimed !== undefined && wanted(claimed) ? sessionUser(req) : undefined;
}

/**
 * The session tokens this process has verified, until they expire: a user's next requests skip the
 * signature check (an Ed25519 verification through WebCrypto, about 0.2 ms of CPU under a crowd).
 * The key is the whole token, signature included, so only a token byte for byte the same as a
 * verified one is found; its expiry is checked at every use. Bounded: past `max` entries the
 * oldest is forgotten and verified again when it comes back.
 */
class VerifiedTokens {
  private readonly users = new Map<string, UserPayload>();
  constructor(private readonly max = 10_000) {}
  get(token: string): UserPayload | undefined {
    const user = this.users.get(token);
    if (user && user.exp * 1000 <= Date.now()) {
      this.users.delete(token);
      return undefined;
    }
    return user;
  }
  set(token: string, user: UserPayload): void {
    if (this.users.size >= this.max) this.users.delete(this.users.keys().next().value!);
    this.users.set(token, user);
  }
}

/** Answers 401 unless the session is valid; after it, userOf(req) is the verified user. */
export async function requireAuth(req: Request, _res: Response, next: NextFunction) {
  const user = await sessionUser(req);
  if (!user) throw new NotAuthorizedError();
  req.currentUser = user;
  next();
}

/** The signed-in user; only call after requireAuth. */
export function userOf(req: Request): UserPayload {
  if (!req.currentUser) throw new NotAuthorizedError();
  return req.currentUser;
}
