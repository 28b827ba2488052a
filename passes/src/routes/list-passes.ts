import type { Request, Response } from "express";
import { userOf } from "@ticketforge/common";
import type { PassesContext } from "../app";
import { findPassesOf } from "../db/passes";
import { toPassJson } from "../pass-json";

export const listPasses = (ctx: PassesContext) => async (req: Request, res: Response) => {
  const passes = await findPassesOf(ctx.db, userOf(req).id);
  res.status(200).json(passes.map(toPassJson));
};
