import type { ChannelWatcher } from "@ticketforge/common";

export type CacheResult = "hit" | "miss" | "bypass";

export interface ListingCacheOptions {
  /** A page is served from memory for at most this long (0: never). */
  maxAgeMs: number;
  /** Pages kept at most; the least recently used one goes first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Pages of the public listing, kept in memory between changes to the tickets table. It is used
 * only while it hears of every change (`live`): this process's own commits, and the NOTIFY that
 * the table's trigger sends on any commit that touches it, from any replica or any tool. A change
 * empties it; a page whose query was under way when a change came is not kept. `maxAgeMs` bounds
 * what a change it did not hear of could leave stale.
 */
export class ListingCache<T> implements ChannelWatcher {
  private readonly pages = new Map<string, { value: T; loadedAt: number }>();
  /** Queries under way, shared by the requests that want the same page meanwhile. */
  private readonly loading = new Map<string, Promise<T>>();
  private generation = 0;
  private isLive = false;
  private readonly now: () => number;

  constructor(private readonly options: ListingCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  changed(): void {
    this.generation++;
    this.pages.clear();
    this.loading.clear();
  }

  live(isLive: boolean): void {
    this.isLive = isLive;
    // whatever happened while nobody listened is unknown: start empty either way
    this.changed();
  }

  get enabled(): boolean {
    return this.isLive && this.options.maxAgeMs > 0;
  }

  /** The page under `key`: from memory when it is there and fresh, else from `load`. */
  async get(key: string, load: () => Promise<T>): Promise<{ value: T; result: CacheResult }> {
    if (!this.enabled) return { value: await load(), result: "bypass" };
    const page = this.pages.get(key);
    if (page && this.now() - page.loadedAt < this.options.maxAgeMs) {
      // most recently used last: eviction takes the first
      this.pages.delete(key);
      this.pages.set(key, page);
      return { value: page.value, result: "hit" };
    }
    const pending = this.loading.get(key);
    if (pending) return { value: await pending, result: "hit" };
    const generation = this.generation;
    const loadedAt = this.now();
    const loading = load();
    this.loading.set(key, loading);
    let value: T;
    try {
      value = await loading;
    } finally {
      if (this.loading.get(key) === loading) this.loading.delete(key);
    }
    // a change committed while the query ran may be missing from its answer: not kept
    if (generation === this.generation && this.enabled) {
      this.pages.delete(key);
      this.pages.set(key, { value, loadedAt });
      if (this.pages.size > (this.options.maxEntries ?? 100)) this.pages.delete(this.pages.keys().next().value!);
    }
    return { value, result: "miss" };
  }
}
