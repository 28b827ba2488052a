import type { Request, Response } from "express";
import { BadRequestError, ConflictError, ForbiddenError, GoneError, userOf, validate } from "@ticketforge/common";
import { checkinBody, type Checkin } from "@ticketforge/common/api";
import type { PassesContext } from "../app";
import { scan } from "../checkin";

/** The seller scans a code at the door: admitted once; every later scan is refused, saying when and where it entered. */
export const createCheckin = (ctx: PassesContext) => async (req: Request, res: Response) => {
  const { code, scanner = "online" } = validate(checkinBody, req.body);
  const sellerId = userOf(req).id;
  const result = await ctx.work((uow) => scan(uow, ctx.signing, { code, sellerId, scanner, scannedAt: new Date(), offline: false }));
  switch (result.outcome) {
    case "admitted":
      ctx.log.info({ passId: result.passId, scanner }, "pass admitted");
      res.status(201).json({
        passId: result.passId,
        ticket: { id: result.ticketId, title: result.title },
        scanner: result.scanner,
        admittedAt: result.admittedAt.toISOString(),
      } satisfies Checkin);
      return;
    case "already admitted":
      throw new ConflictError(`Already admitted at ${result.admittedAt.toISOString()} by scanner ${result.scanner}`);
    case "revoked":
      throw new GoneError("This pass was transferred: its codes are revoked");
    case "not the seller":
      throw new ForbiddenError("Only the seller of this ticket can check it in");
    case "forged":
      throw new BadRequestError("This code is not genuine (forged or damaged)");
    case "expired":
      throw new BadRequestError("This code has expired: ask for the pass to be opened again");
  }
};
