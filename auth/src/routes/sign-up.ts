import type { Request, Response } from "express";
import { BadRequestError, clientNetwork, isUniqueViolation, validate } from "@ticketforge/common";
import { signupBody, type User } from "@ticketforge/common/api";
import type { AuthContext } from "../app";
import { insertUser } from "../db/users";
import type { PasswordHasher } from "../password";
import { startSession } from "../session";
import { rememberNetwork } from "../db/networks";

export const signup = (ctx: AuthContext, passwords: PasswordHasher) => async (req: Request, res: Response) => {
  const { email, password } = validate(signupBody, req.body);
  let user;
  try {
    const hash = await passwords.hash(password);
    user = await ctx.work(async (uow) => {
      const inserted = await insertUser(uow.db, email, hash);
      // other services (passes: a transfer names its recipient by email) keep who is who from this
      uow.publish("user.registered", { id: inserted.id, email: inserted.email.toLowerCase() });
      return inserted;
    });
  } catch (err) {
    if (isUniqueViolation(err, "users_email_unique")) throw new BadRequestError("Email in use");
    throw err;
  }
  // where the owner signed up from is theirs: strangers' guesses elsewhere do not lock them out here
  await rememberNetwork(ctx.db, user.id, clientNetwork(req));
  await startSession(req, ctx, user);
  ctx.log.info({ userId: user.id }, "user signed up");
  res.status(201).json({ id: user.id, email: user.email } satisfies User);
};
