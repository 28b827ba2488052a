import type { Request, Response } from "express";
import type { CurrentUserReply } from "@ticketforge/common/api";

export function currentUser(req: Request, res: Response) {
  res.status(200).json({ currentUser: req.currentUser ?? null } satisfies CurrentUserReply);
}
