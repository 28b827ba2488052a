import { baseSettings, setting } from "@ticketforge/common";

/** Every environment variable the tickets service reads (see .env.example). */
export const settings = {
  ...baseSettings("tickets", 3002),
  /**
   * Longest time a page of the public listing is served from memory; any change to tickets
   * empties the cache at once. 0 turns the cache off.
   */
  TICKETS_LISTING_CACHE_MS: setting.wholeNumber(5_000),
  /**
   * Title searches (GET /api/tickets with `q`) per client network (an IPv4 address, an IPv6 /64)
   * per minute before tickets answers 429: a search is a database query no cache answers, so one
   * client cannot keep the database busy with them. Listing without `q` is not counted.
   */
  TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE: setting.positiveInt(60),
};
