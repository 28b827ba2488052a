import { baseSettings, setting } from "@ticketforge/common";

/** Every environment variable the tickets service reads (see .env.example). */
export const settings = {
  ...baseSettings("tickets", 3002),
  /**
   * Longest time a page of the public listing is served from memory; any change to tickets
   * empties the cache at once. 0 turns the cache off.
   */
  TICKETS_LISTING_CACHE_MS: setting.wholeNumber(5_000),
};
