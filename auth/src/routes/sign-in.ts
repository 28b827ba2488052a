import type { Request, Response } from "express";
import { BadRequestError, validate } from "@ticketforge/common";
import { signinBody, type User } from "@ticketforge/common/api";
import type { AuthContext } from "../app";
import { findUserByEmail } from "../db/users";
import { decoyHash, verifyPassword } from "../password";
import { startSession } from "../session";

export const signin = (ctx: AuthContext) => async (req: Request, res: Response) => {
  const { email, password } = validate(signinBody, req.body);
  const user = await findUserByEmail(ctx.db, email);
  const ok = await verifyPassword(password, user?.password_hash ?? (await decoyHash));
  if (!user || !ok) throw new BadRequestError("Invalid credentials");
  startSession(req, ctx, user);
  res.status(200).json({ id: user.id, email: user.email } satisfies User);
};
