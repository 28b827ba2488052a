import type { Request, Response } from "express";

export function currentUser(req: Request, res: Response) {
  res.status(200).json({ currentUser: req.currentUser ?? null });
}
