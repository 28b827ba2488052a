import type { Request, Response } from "express";
import { sessionUser } from "@ticketforge/common";
import type { CurrentUserReply } from "@ticketforge/common/api";

export async function currentUser(req: Request, res: Response) {
  const user = await sessionUser(req);
  if (!user) {
    res.status(200).json({ currentUser: null } satisfies CurrentUserReply);
    return;
  }
  // the session id stays in the cookie: the page has no use for it
  const { id, email, iat, exp } = user;
  res.status(200).json({ currentUser: { id, email, iat, exp } } satisfies CurrentUserReply);
}
