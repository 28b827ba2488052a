import { baseSettings, setting } from "@ticketforge/common";

/** Every environment variable the orders service reads (see .env.example). */
export const settings = {
  ...baseSettings("orders", 3003),
  /** How long a buyer holds a reserved ticket before the order expires unpaid. */
  EXPIRATION_WINDOW_SECONDS: setting.positiveInt(900),
  /** Live (unpaid, unexpired) orders one buyer may hold at once: nobody can reserve every ticket. */
  ORDERS_MAX_LIVE_PER_BUYER: setting.positiveInt(5),
  /**
   * After a buyer's hold of a ticket ended unpaid (cancelled or expired), how long before that
   * buyer may hold that ticket again, counted from the end of the longest hold (the first hold's
   * start + EXPIRATION_WINDOW_SECONDS): cancelling and ordering again every 14 minutes would
   * keep it from everyone else for ever. 0 turns it off.
   */
  ORDERS_REHOLD_COOLDOWN_SECONDS: setting.wholeNumber(900),
  /** Orders one buyer may place per minute (429 with Retry-After above it). */
  ORDERS_RATE_LIMIT_PER_MINUTE: setting.positiveInt(20),
  /** An order still live this long past its window is cancelled by orders itself (the expiry never came). */
  ORDERS_OVERDUE_AFTER_SECONDS: setting.positiveInt(120),
  /** How often orders looks for such orders. */
  ORDERS_OVERDUE_SWEEP_MS: setting.positiveInt(30_000),
};
