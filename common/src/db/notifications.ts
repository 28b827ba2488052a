import type { Client } from "pg";
import type { Logger } from "pino";

/** What a watcher of a channel hears. */
export interface ChannelWatcher {
  /** A NOTIFY on the channel was delivered. */
  changed(): void;
  /**
   * True once the channel is listened to (again); false when the connection is lost. While it is
   * false, notifications may be missed: whatever a watcher keeps on the strength of them is stale.
   */
  live(isLive: boolean): void;
}

export interface NotificationsOptions {
  /** PostgreSQL connection string (the service's own database). */
  url: string;
  log: Logger;
  /** Shown in pg_stat_activity (e.g. "tickets-notifications"). */
  applicationName: string;
  /** First wait before reconnecting; doubles up to 5 s. */
  retryBaseMs?: number;
}

/**
 * PostgreSQL LISTEN/NOTIFY for a service: one connection of its own, opened when the first
 * channel is watched (a service that watches nothing holds none), reconnected with back-off when
 * it drops. Notifications arrive on it when the notifying transaction commits, whichever process
 * or replica committed it.
 */
export class Notifications {
  private readonly watchers = new Map<string, Set<ChannelWatcher>>();
  private client?: Client;
  private connecting?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: NotificationsOptions) {}

  /** Starts delivering `channel`'s notifications to `watcher`; it hears live(true) once they flow. */
  watch(channel: string, watcher: ChannelWatcher): void {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const set = this.watchers.get(channel) ?? new Set();
    set.add(watcher);
    this.watchers.set(channel, set);
    watcher.live(false);
    if (this.client) {
      // already connected: listen to this channel too
      this.client.query(`listen ${channel}`).then(
        () => watcher.live(true),
        () => undefined, // the connection is failing: its error handler reconnects
      );
    } else this.connect();
  }

  private connect(): void {
    if (this.closed || this.connecting) return;
    this.connecting = this.open()
      .catch((err: Error) => {
        this.failures++;
        const delay = Math.min((this.options.retryBaseMs ?? 500) * 2 ** (this.failures - 1), 5_000);
        this.options.log.warn({ err: err.message, retryInMs: delay }, "database notifications unavailable; retrying");
        this.retryTimer = setTimeout(() => this.connect(), delay);
        this.retryTimer.unref();
      })
      .finally(() => (this.connecting = undefined));
  }

  private async open(): Promise<void> {
    const { Client } = await import("pg");
    const client = new Client({ connectionString: this.options.url, application_name: this.options.applicationName });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners("notification");
      void client.end().catch(() => undefined);
      this.everyWatcher((w) => w.live(false));
      if (this.closed) return;
      this.options.log.warn({ err: err?.message }, "database notifications connection lost; reconnecting");
      this.connect();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    await client.connect();
    try {
      for (const channel of this.watchers.keys()) await client.query(`listen ${channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on("notification", (n) => {
      for (const w of this.watchers.get(n.channel) ?? []) w.changed();
    });
    this.client = client;
    this.failures = 0;
    this.everyWatcher((w) => w.live(true));
  }

  private everyWatcher(fn: (w: ChannelWatcher) => void): void {
    for (const set of this.watchers.values()) for (const w of set) fn(w);
  }

  /** Closes the connection; watchers hear live(false). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    this.everyWatcher((w) => w.live(false));
    if (client) {
      client.removeAllListeners();
      client.on("error", () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
