import { baseSettings, setting } from "@ticketforge/common";

/** Every environment variable the orders service reads (see .env.example). */
export const settings = {
  ...baseSettings("orders", 3003),
  /** How long a buyer holds a reserved ticket before the order expires unpaid. */
  EXPIRATION_WINDOW_SECONDS: setting.positiveInt(900),
};
