import type { Request, Response } from "express";
import type { CurrentUserReply } from "@ticketforge/common/api";

export function currentUser(req: Request, res: Response) {
  if (!req.currentUser) {
    res.status(200).json({ currentUser: null } satisfies CurrentUserReply);
    return;
  }
  // the session id stays in the cookie: the page has no use for it
  const { id, email, iat, exp } = req.currentUser;
  res.status(200).json({ currentUser: { id, email, iat, exp } } satisfies CurrentUserReply);
}
