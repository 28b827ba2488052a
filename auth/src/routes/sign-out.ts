import type { Request, Response } from "express";
import { ForbiddenError, sessionUser } from "@ticketforge/common";
import type { AuthContext } from "../app";

/**
 * False only for what a browser marks as coming from another site, as Go's CrossOriginProtection
 * decides: browsers send Sec-Fetch-Site with every request and Origin with every POST, and a page
 * of another site can forge neither, so it cannot sign a visitor out behind their back. A request
 * with neither header comes from no browser (curl, a mobile app, a test client): CSRF is an attack
 * through a browser, and such a client holds the cookie itself anyway.
 */
function fromOwnSite(req: Request): boolean {
  const site = req.get("sec-fetch-site");
  // "none": the user's own doing (typed, bookmarked)
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = req.get("origin");
  if (!origin) return true;
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
  const user = await sessionUser(req);
  if (user) {
    await ctx.sessions.revoke(user.sid, user.exp);
    ctx.log.info({ userId: user.id }, "signed out");
  }
  req.session = null;
  res.status(200).json({});
};
