import { baseSettings } from "@ticketforge/common";

/** Every environment variable the tickets service reads (see .env.example). */
export const settings = {
  ...baseSettings("tickets", 3002),
};
