import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { settings } from "./config";
import type { PassesTables } from "./db/tables";
import { routes, type PassesBase, type PassesContext } from "./app";
import { newSigningKeyText, parseSigningKey } from "./signing";
import { Mailer } from "./workers/mailer";
import { ticketCreatedListener } from "./events/ticket-created-listener";
import { ticketUpdatedListener } from "./events/ticket-updated-listener";
import { orderCompletedListener } from "./events/order-completed-listener";
import { userRegisteredListener } from "./events/user-registered-listener";

/** The signing key and the mailer of one running instance, added to its routes' and workers' context. */
function extend(ctx: PassesBase): Omit<PassesContext, keyof PassesBase> {
  const text = ctx.config.PASSES_SIGNING_KEY;
  if (!text && ctx.config.NODE_ENV !== "test") {
    // the config check lets it be absent only so that tests can run without one
    throw new Error("passes: PASSES_SIGNING_KEY is not set (an Ed25519 private key, PKCS#8 as PEM or base64 DER; see .env.example)");
  }
  const signing = parseSigningKey(text ?? newSigningKeyText());
  ctx.log.info({ kid: signing.kid }, "door codes signed with this key");
  return { signing, mailer: new Mailer(ctx) };
}

export const passes = {
  name: "passes",
  settings,
  migrationsDir: path.join(__dirname, "db", "migrations"),
  extend,
  routes,
  listeners: [ticketCreatedListener, ticketUpdatedListener, orderCompletedListener, userRegisteredListener],
  workers: (ctx) => [ctx.mailer.start()],
} satisfies ServiceDefinition<typeof settings, PassesTables, Omit<PassesContext, keyof PassesBase>>;
