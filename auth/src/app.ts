import type { Express } from "express";
import { sessionWriter, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { AuthTables } from "./db/tables";
import type { settings } from "./config";
import { accountLimiters, addressLimit } from "./rate-limit";
import { passwordHasher } from "./password";
import { signup } from "./routes/sign-up";
import { signin } from "./routes/sign-in";
import { signout } from "./routes/sign-out";
import { currentUser } from "./routes/show-current-user";

export type AuthContext = ServiceContext<ConfigOf<typeof settings>, AuthTables>;

export function routes(app: Express, ctx: AuthContext) {
  const passwords = passwordHasher({ concurrency: ctx.config.AUTH_HASH_CONCURRENCY, maxWaiting: ctx.config.AUTH_HASH_QUEUE });
  const limited = addressLimit(ctx.db, ctx.config.AUTH_RATE_LIMIT_PER_MINUTE);
  const perAccount = accountLimiters(
    ctx.db,
    ctx.config.AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT,
    ctx.config.AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT_FROM_NEW_NETWORKS,
    ctx.config.AUTH_SIGNIN_ACCOUNT_WINDOW_SECONDS,
  );
  // the only routes that write the session cookie
  const session = sessionWriter({ secure: ctx.config.COOKIE_SECURE });
  app.post("/api/users/signup", limited, session, signup(ctx, passwords));
  app.post("/api/users/signin", limited, session, signin(ctx, perAccount, passwords));
  app.post("/api/users/signout", session, signout(ctx));
  app.get("/api/users/currentuser", currentUser);
}
