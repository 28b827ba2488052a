import type { Request, Response } from "express";
import { GoneError, NotFoundError, userOf } from "@ticketforge/common";
import type { PassCode } from "@ticketforge/common/api";
import type { PassesContext } from "../app";
import { findPass } from "../db/passes";
import { passIdOf } from "../pass-json";
import { signCode } from "../signing";

/** The pass's code for the current window: its owner shows it at the door; it rotates every 30 s. */
export const showPassCode = (ctx: PassesContext) => async (req: Request, res: Response) => {
  const pass = await findPass(ctx.db, passIdOf(req.params));
  // someone else's pass answers as an unknown one, so pass ids cannot be probed
  if (!pass || pass.owner_id !== userOf(req).id) throw new NotFoundError("Pass not found");
  if (pass.status === "transferred") throw new GoneError("This pass was transferred: it has no code any more");
  const { code, expiresAt } = signCode(ctx.signing, pass.id);
  res.setHeader("Cache-Control", "no-store");
  res.status(200).json({ code, expiresAt: expiresAt.toISOString() } satisfies PassCode);
};
