import type { Express } from "express";
import type { ConfigOf, ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import { rateLimit } from "./rate-limit";
import { signup } from "./routes/sign-up";
import { signin } from "./routes/sign-in";
import { signout } from "./routes/sign-out";
import { currentUser } from "./routes/show-current-user";

export type AuthContext = ServiceContext<ConfigOf<typeof settings>>;

export function routes(app: Express, ctx: AuthContext) {
  const limited = rateLimit(ctx.config.AUTH_RATE_LIMIT_PER_MINUTE);
  app.post("/api/users/signup", limited, signup(ctx));
  app.post("/api/users/signin", limited, signin(ctx));
  app.post("/api/users/signout", signout);
  app.get("/api/users/currentuser", currentUser);
}
