import type { Express } from "express";
import type { ConfigOf, ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import { accountLimiter, addressLimit } from "./rate-limit";
import { signup } from "./routes/signup";
import { signin } from "./routes/signin";
import { signout } from "./routes/signout";
import { currentUser } from "./routes/current-user";

export type AuthContext = ServiceContext<ConfigOf<typeof settings>>;

export function routes(app: Express, ctx: AuthContext) {
  const limited = addressLimit(ctx.db, ctx.config.AUTH_RATE_LIMIT_PER_MINUTE);
  const perAccount = accountLimiter(ctx.db, ctx.config.AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT, ctx.config.AUTH_SIGNIN_ACCOUNT_WINDOW_SECONDS);
  app.post("/api/users/signup", limited, signup(ctx));
  app.post("/api/users/signin", limited, signin(ctx, perAccount));
  app.post("/api/users/signout", signout(ctx));
  app.get("/api/users/currentuser", currentUser);
}
