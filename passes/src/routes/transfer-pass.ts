import type { Request, Response } from "express";
import { BadRequestError, NotFoundError, userOf, validate } from "@ticketforge/common";
import { transferPassBody } from "@ticketforge/common/api";
import type { PassesContext } from "../app";
import { findPass, transferPass as moveToRecipient } from "../db/passes";
import { findUserIdByEmail } from "../db/replicas";
import { passMail } from "../mails";
import { passIdOf } from "../pass-json";

/**
 * The owner gives the pass to another user, named by email: the recipient gets a new pass and this
 * one is revoked in the same statement, so its codes are refused from the commit on (and at every
 * scanner once it downloads the revoked list).
 */
export const transferPass = (ctx: PassesContext) => async (req: Request, res: Response) => {
  const id = passIdOf(req.params);
  const { email } = validate(transferPassBody, req.body);
  const user = userOf(req);
  const outcome = await ctx.work(async (uow) => {
    const pass = await findPass(uow.db, id);
    if (!pass || pass.owner_id !== user.id) throw new NotFoundError("Pass not found");
    const recipient = await findUserIdByEmail(uow.db, email);
    if (!recipient) throw new BadRequestError("No user with that email");
    if (recipient === user.id) throw new BadRequestError("You cannot transfer a pass to yourself");
    const moved = await moveToRecipient(uow.db, id, user.id, recipient);
    if (!moved) {
      // not valid any more, perhaps since the read above: admitted at the door, or given away already
      const now = await findPass(uow.db, id);
      throw new BadRequestError(now?.status === "used" ? "This pass was used at the door" : "This pass was transferred already");
    }
    uow.publish("pass.transferred", { id, ticketId: pass.ticket_id, fromUserId: user.id, toUserId: recipient, newPassId: moved.id });
    uow.publish("pass.issued", { id: moved.id, ticketId: pass.ticket_id, orderId: pass.order_id, ownerId: recipient, transferredFrom: id });
    passMail(uow, { kind: "received", toUserId: recipient, title: pass.title, orderId: pass.order_id });
    return moved;
  });
  ctx.log.info({ passId: id, newPassId: outcome.id }, "pass transferred");
  res.status(201).json({ id: outcome.id });
};
