import { baseSettings, setting } from "@ticketforge/common";

/** Every environment variable the expiration service reads (see .env.example). */
export const settings = {
  ...baseSettings("expiration", 3005),
  /**
   * The longest pause between two looks for due timers. The worker also wakes at the next due
   * time when that comes sooner, so a timer fires at most this long (plus publishing) after it is due.
   */
  EXPIRATION_POLL_MS: setting.positiveInt(250),
};
