import type { Request, Response } from "express";
import { BadRequestError, clientNetwork, validate } from "@ticketforge/common";
import { signinBody, type User } from "@ticketforge/common/api";
import type { AuthContext } from "../app";
import { findUserByEmail, updatePasswordHash } from "../db/users";
import type { PasswordHasher } from "../password";
import { startSession } from "../session";
import { isKnownNetwork, rememberNetwork } from "../db/networks";
import type { AccountLimiters } from "../rate-limit";

export const signin = (ctx: AuthContext, perAccount: AccountLimiters, passwords: PasswordHasher) => async (req: Request, res: Response) => {
  const { email, password } = validate(signinBody, req.body);
  const network = clientNetwork(req);
  const tooMany = (s: number) => `Too many sign-in attempts for this account, try again in ${s} seconds`;
  // counted before the password is checked, so that parallel guesses cannot all slip under the limit
  await perAccount.perNetwork.consume(`${email}|${network}`, res, tooMany);
  const user = await findUserByEmail(ctx.db, email);
  // the owner's own networks are not held back by what strangers try from elsewhere
  if (!user || !(await isKnownNetwork(ctx.db, user.id, network))) await perAccount.fromNewNetworks.consume(email, res, tooMany);
  const ok = await passwords.verify(password, user?.password_hash ?? (await passwords.decoy));
  if (!user || !ok) throw new BadRequestError("Invalid credentials");
  await perAccount.perNetwork.reset(`${email}|${network}`);
  await perAccount.fromNewNetworks.reset(email);
  await rememberNetwork(ctx.db, user.id, network);
  // a hash made at an older cost is replaced now, while the password is at hand
  if (passwords.needsUpgrade(user.password_hash)) {
    await updatePasswordHash(ctx.db, user.id, user.password_hash, await passwords.hash(password));
    ctx.log.info({ userId: user.id }, "password hash upgraded to the current cost");
  }
  await startSession(req, ctx, user);
  res.status(200).json({ id: user.id, email: user.email } satisfies User);
};
