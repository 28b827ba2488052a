import type { Request } from "express";
import { signSessionToken } from "@ticketforge/common";
import type { AuthContext } from "./app";

/** Puts a fresh JWT, signed with auth's private key, in the cookie session. */
export async function startSession(req: Request, ctx: AuthContext, user: { id: string; email: string }) {
  const seconds = ctx.config.JWT_EXPIRES_IN_SECONDS;
  req.session = { jwt: await signSessionToken(user, ctx.config.JWT_PRIVATE_KEY, seconds) };
  req.sessionOptions.maxAge = seconds * 1000;
}
