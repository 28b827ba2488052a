import type { Request, Response } from "express";
import { BadRequestError, validate, type RateLimiter } from "@ticketforge/common";
import { signinBody, type User } from "@ticketforge/common/api";
import type { AuthContext } from "../app";
import { findUserByEmail, updatePasswordHash } from "../db/users";
import type { PasswordHasher } from "../password";
import { startSession } from "../session";

export const signin = (ctx: AuthContext, perAccount: RateLimiter, passwords: PasswordHasher) => async (req: Request, res: Response) => {
  const { email, password } = validate(signinBody, req.body);
  // counted before the password is checked, so that parallel guesses cannot all slip under the limit
  await perAccount.consume(email, res, (s) => `Too many sign-in attempts for this account, try again in ${s} seconds`);
  const user = await findUserByEmail(ctx.db, email);
  const ok = await passwords.verify(password, user?.password_hash ?? (await passwords.decoy));
  if (!user || !ok) throw new BadRequestError("Invalid credentials");
  await perAccount.reset(email);
  // a hash made at an older cost is replaced now, while the password is at hand
  if (passwords.needsUpgrade(user.password_hash)) {
    await updatePasswordHash(ctx.db, user.id, user.password_hash, await passwords.hash(password));
    ctx.log.info({ userId: user.id }, "password hash upgraded to the current cost");
  }
  await startSession(req, ctx, user);
  res.status(200).json({ id: user.id, email: user.email } satisfies User);
};
