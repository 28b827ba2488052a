import type { Request, Response } from "express";
import { HttpError } from "@ticketforge/common";
import type { AuthContext } from "../app";

class ForbiddenError extends HttpError {
  readonly statusCode = 403;
}

/**
 * True when the request comes from a page of this very site. Browsers send Sec-Fetch-Site with
 * every request and Origin with every POST; another site cannot forge either, so a page there
 * cannot sign a visitor out behind their back. A request with neither is not a page's.
 */
function fromOwnSite(req: Request): boolean {
  const site = req.get("sec-fetch-site");
  if (site !== undefined) return site === "same-origin";
  const origin = req.get("origin");
  if (!origin) return false;
  try {
    // req.host honours X-Forwarded-Host only from a trusted proxy (TRUST_PROXY)
    return new URL(origin).host === req.host;
  } catch {
    return false;
  }
}

/**
 * Ends the session on every service: its id is revoked (a copy of the cookie stops working
 * too), then the cookie is cleared. Only by POST from the site's own pages.
 */
export const signout = (ctx: AuthContext) => async (req: Request, res: Response) => {
  if (!fromOwnSite(req)) throw new ForbiddenError("Sign out from the site itself");
  const user = req.currentUser;
  if (user) {
    await ctx.sessions.revoke(user.sid, user.exp);
    ctx.log.info({ userId: user.id }, "signed out");
  }
  req.session = null;
  res.status(200).json({});
};
