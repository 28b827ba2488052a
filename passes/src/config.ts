import { z } from "zod";
import { baseSettings, setting } from "@ticketforge/common";
import { parseSigningKey } from "./signing";

/** Every environment variable the passes service reads (see .env.example). */
export const settings = {
  ...baseSettings("passes", 3007),
  /**
   * The Ed25519 private key that signs door codes: PKCS#8, as PEM or as base64 of the DER bytes.
   * Required outside tests (`npm start` generates one once and keeps it in .data/passes-signing-key);
   * a test run without one signs with a key of its own.
   */
  PASSES_SIGNING_KEY: z
    .string()
    .optional()
    .superRefine((value, check) => {
      if (value === undefined) return;
      try {
        parseSigningKey(value);
      } catch (err) {
        check.addIssue({ code: "custom", message: (err as Error).message });
      }
    }),
  /** Where mail leaves: smtp://host:port (a local catcher such as maildev under `npm start`). Unset: no mail is sent, it waits. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL")
    .optional(),
  /** The From of every mail. */
  PASSES_MAIL_FROM: z.string().min(3).default("TicketForge <tickets@ticketforge.local>"),
  /** The web app's address, for the links in mails (never a door code: the pass is shown there). */
  PASSES_APP_URL: z.url({ message: "must be a URL" }).default("http://localhost:3000"),
  /** How often waiting mails are looked for (mails are also sent right after the commit that writes them). */
  PASSES_MAIL_SWEEP_MS: setting.positiveInt(2_000),
};
