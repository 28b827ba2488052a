import type { Request, Response } from "express";
import { BadRequestError, userOf, validate } from "@ticketforge/common";
import { syncCheckinsBody, type SyncOutcome } from "@ticketforge/common/api";
import type { PassesContext } from "../app";
import { reportConflict, scan } from "../checkin";

/** A scanner's clock may run ahead a little; a scan further in the future than this is refused. */
const clockSkewMs = 60_000;

/**
 * A scanner uploads what it admitted while offline. Each check-in is checked as a scan at the
 * time it happened (the code must have been valid then), in a unit of work of its own:
 * admitted; conflicting when the pass entered elsewhere first or had been transferred (kept in
 * checkin_conflicts and answered to the seller, never merged); refused when the code is not
 * genuine, was not valid at scannedAt, or is not the seller's. Uploading the same sync again
 * answers the same (a scanner's own admission is not a conflict with itself).
 */
export const syncCheckins = (ctx: PassesContext) => async (req: Request, res: Response) => {
  const { scanner, checkins } = validate(syncCheckinsBody, req.body);
  const sellerId = userOf(req).id;
  const now = Date.now();
  checkins.forEach((c, i) => {
    if (Date.parse(c.scannedAt) > now + clockSkewMs) throw new BadRequestError(`checkins.${i}.scannedAt is in the future`);
  });
  const results: SyncOutcome[] = [];
  for (const c of checkins) {
    const scannedAt = new Date(c.scannedAt);
    results.push(
      await ctx.work(async (uow): Promise<SyncOutcome> => {
        const r = await scan(uow, ctx.signing, { code: c.code, sellerId, scanner, scannedAt, offline: true });
        switch (r.outcome) {
          case "admitted":
            return { passId: r.passId, outcome: "admitted" };
          case "already admitted": {
            if (r.scanner === scanner) return { passId: r.passId, outcome: "admitted" };
            const reason = `admitted first by scanner ${r.scanner}`;
            await reportConflict(uow, { passId: r.passId, scanner, scannedAt, reason });
            return { passId: r.passId, outcome: "conflicting", reason, admittedAt: r.admittedAt.toISOString(), admittedBy: r.scanner };
          }
          case "revoked": {
            const reason = "the pass had been transferred: its codes were revoked";
            await reportConflict(uow, { passId: r.passId, scanner, scannedAt, reason });
            return { passId: r.passId, outcome: "conflicting", reason };
          }
          case "not the seller":
            return { passId: r.passId, outcome: "refused", reason: "not a pass of your tickets" };
          case "forged":
            return { passId: r.passId, outcome: "refused", reason: "the code is not genuine" };
          case "expired":
            return { passId: r.passId, outcome: "refused", reason: "the code was not valid at scannedAt" };
        }
      }),
    );
  }
  const conflicts = results.filter((r) => r.outcome === "conflicting").length;
  ctx.log.info({ scanner, checkins: checkins.length, conflicts }, "offline check-ins synced");
  res.status(200).json({ results });
};
