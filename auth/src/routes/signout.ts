import type { Request, Response } from "express";
import type { AuthContext } from "../app";

/**
 * Ends the session on every service: its id is revoked (a copy of the cookie stops working
 * too), then the cookie is cleared.
 */
export const signout = (ctx: AuthContext) => async (req: Request, res: Response) => {
  const user = req.currentUser;
  if (user) {
    await ctx.sessions.revoke(user.sid, user.exp);
    ctx.log.info({ userId: user.id }, "signed out");
  }
  req.session = null;
  res.status(200).json({});
};
