import type { Request, Response } from "express";

export function signout(req: Request, res: Response) {
  req.session = null;
  res.status(200).json({});
}
