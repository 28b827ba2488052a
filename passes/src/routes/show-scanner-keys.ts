import type { Request, Response } from "express";
import { userOf } from "@ticketforge/common";
import type { ScannerKeys } from "@ticketforge/common/api";
import type { PassesContext } from "../app";
import { doorListsOf } from "../db/passes";
import { publicJwk, windowSeconds } from "../signing";

/**
 * What a seller's scanner downloads before it goes offline: the public key that verifies codes,
 * and the passes of the seller's tickets it must refuse (transferred) or has seen enter (used).
 */
export const showScannerKeys = (ctx: PassesContext) => async (req: Request, res: Response) => {
  const asOf = new Date();
  const lists = await doorListsOf(ctx.db, userOf(req).id);
  res.setHeader("Cache-Control", "no-store");
  res.status(200).json({ keys: [publicJwk(ctx.signing)], windowSeconds, ...lists, asOf: asOf.toISOString() } satisfies ScannerKeys);
};
