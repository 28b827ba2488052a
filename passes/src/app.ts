import type { Express } from "express";
import { requireAuth, type ConfigOf, type ServiceContext } from "@ticketforge/common";
import type { settings } from "./config";
import type { PassesTables } from "./db/tables";
import type { SigningKey } from "./signing";
import type { Mailer } from "./workers/mailer";
import { listPasses } from "./routes/list-passes";
import { showPassCode } from "./routes/show-pass-code";
import { transferPass } from "./routes/transfer-pass";
import { createCheckin } from "./routes/create-checkin";
import { showScannerKeys } from "./routes/show-scanner-keys";
import { syncCheckins } from "./routes/sync-checkins";

export type PassesBase = ServiceContext<ConfigOf<typeof settings>, PassesTables>;
/** The context of the routes and workers: the signing key and the mailer of this instance. */
export type PassesContext = PassesBase & { signing: SigningKey; mailer: Mailer };

export function routes(app: Express, ctx: PassesContext) {
  app.get("/api/passes", requireAuth, listPasses(ctx));
  app.get("/api/passes/:id/code", requireAuth, showPassCode(ctx));
  app.post("/api/passes/:id/transfer", requireAuth, transferPass(ctx));
  app.post("/api/checkins", requireAuth, createCheckin(ctx));
  app.get("/api/checkins/keys", requireAuth, showScannerKeys(ctx));
  app.post("/api/checkins/sync", requireAuth, syncCheckins(ctx));
}
