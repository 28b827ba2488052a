import { StorageType, type KV, type QueuedIterator, type KvEntry } from "nats";
import type { Logger } from "pino";
import type { Bus } from "./bus";

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

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  /** Opens (or creates) the bucket and returns once every revocation made so far is known. */
  static async open(bus: Bus, log: Logger, replicas = 1): Promise<SessionRevocations> {
    const kv = await bus.js.views.kv(revokedSessionsBucket, {
      history: 1,
      ttl: maxSessionSeconds * 1000,
      replicas,
      storage: StorageType.File,
    });
    const revocations = new SessionRevocations(kv, log);
    await revocations.start();
    return revocations;
  }

  private async start() {
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    this.watch = await this.kv.watch({ initializedFn: () => initialized() });
    void (async () => {
      for await (const entry of this.watch!) {
        if (entry.operation === "PUT") this.revoked.set(entry.key, Number(new TextDecoder().decode(entry.value)) || 0);
        else this.revoked.delete(entry.key);
      }
    })().catch((err) => this.log.warn({ err }, "watch of revoked sessions ended"));
    await ready;
    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Revokes a session on every service; it is refused here at once, elsewhere as the watch delivers it. */
  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    this.revoked.set(sessionId, expiresAt);
    await this.kv.put(sessionId, String(expiresAt));
  }

  /** Ids of expired tokens need no remembering: the token itself is refused. */
  private prune() {
    const now = Date.now() / 1000;
    for (const [sid, exp] of this.revoked) if (exp > 0 && exp < now) this.revoked.delete(sid);
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.watch?.stop();
  }
}
