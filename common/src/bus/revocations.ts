import { StorageType, type KV, type QueuedIterator, type KvEntry } from "nats";
import type { Logger } from "pino";
import { streamLimits, type Bus } from "./bus";
import { ServiceUnavailableError } from "../errors";

/** The key-value bucket of signed-out sessions, shared by every service through NATS. */
export const revokedSessionsBucket = "revoked_sessions";

/** Longest session lifetime a revocation must outlive; JWT_EXPIRES_IN_SECONDS may not exceed it. */
export const maxSessionSeconds = 7 * 24 * 3600;

/**
 * Sign-out revokes a session (the `sid` in its token) by putting it in a NATS key-value bucket.
 * Every service watches the bucket and keeps the revoked ids in memory, so checking a request
 * costs one map lookup, and a copied cookie stops working everywhere within milliseconds of the
 * sign-out, not when its token expires. Entries expire from the bucket after the longest session
 * lifetime: by then the token they name has expired anyway.
 */
export class SessionRevocations {
  /** Revoked session id → the token's expiry (seconds since the epoch). */
  private readonly revoked = new Map<string, number>();
  private watch?: QueuedIterator<KvEntry>;
  private pruneTimer?: NodeJS.Timeout;
  private watching = false;
  private closed = false;

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    /** How often the watched bucket is checked to be still the one watched. */
    private readonly checkEveryMs = 2_000,
  ) {}

  /** Opens (or creates) the bucket and returns once every revocation made so far is known. */
  static async open(bus: Bus, log: Logger, replicas = 1): Promise<SessionRevocations> {
    const kv = await bus.js.views.kv(revokedSessionsBucket, {
      history: 1,
      ttl: maxSessionSeconds * 1000,
      replicas,
      storage: StorageType.File,
      max_bytes: streamLimits.revokedSessions.maxBytes,
    });
    const revocations = new SessionRevocations(kv, log);
    await revocations.start();
    return revocations;
  }

  private async start() {
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    void this.keepWatching(initialized);
    await ready;
    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
  }

  /**
   * Watches the bucket for as long as this process runs: a watch that ends (the bucket's stream
   * lost, the consumer deleted) is opened again with back-off, and replays every revocation
   * still in the bucket. While none runs, `watching` is false and /readyz says not ready: a
   * process that cannot hear of sign-outs must not be sent requests.
   */
  private async keepWatching(initialized: () => void) {
    let delay = 250;
    while (!this.closed) {
      let watchdog: NodeJS.Timeout | undefined;
      try {
        // the bucket the watch reads: a watch on a lost or re-made stream keeps waiting quietly
        // (its consumer resumes at a sequence the new stream does not share), so it is checked
        const created = (await this.kv.status()).streamInfo.created;
        const watch = await this.kv.watch({
          initializedFn: () => {
            this.watching = true;
            delay = 250;
            initialized();
          },
        });
        this.watch = watch;
        watchdog = setInterval(() => {
          this.kv.status().then(
            (s) => s.streamInfo.created !== created && watch.stop(),
            () => watch.stop(),
          );
        }, this.checkEveryMs);
        watchdog.unref();
        for await (const entry of watch) {
          if (entry.operation === "PUT") this.revoked.set(entry.key, Number(new TextDecoder().decode(entry.value)) || 0);
          else this.revoked.delete(entry.key);
        }
        if (!this.closed) this.log.warn("watch of revoked sessions ended; opening it again");
      } catch (err) {
        if (!this.closed) this.log.warn({ err }, "watch of revoked sessions failed; opening it again");
      } finally {
        clearInterval(watchdog);
      }
      this.watching = false;
      if (this.closed) break;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(delay * 2, 5_000);
    }
  }

  /** True while the watch runs: every sign-out reaches this process. */
  get healthy(): boolean {
    return this.watching;
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /**
   * Revokes a session on every service. Fails closed: when the bucket cannot take it, this
   * throws ServiceUnavailableError (503, try again) and nothing is marked, so that a retry with
   * the same cookie revokes it for real instead of finding it "already signed out" here alone.
   */
  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    try {
      await this.kv.put(sessionId, String(expiresAt));
    } catch (err) {
      this.log.error({ err }, "sign-out could not be recorded in the revoked-sessions bucket");
      throw new ServiceUnavailableError("Signing out could not reach every service; nothing changed, please try again", 5);
    }
    this.revoked.set(sessionId, expiresAt);
  }

  /** Ids of expired tokens need no remembering: the token itself is refused. */
  private prune() {
    const now = Date.now() / 1000;
    for (const [sid, exp] of this.revoked) if (exp > 0 && exp < now) this.revoked.delete(sid);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.watch?.stop();
  }
}
