/**
 * "Kick, coalesce, sweep": runs `pass` when kicked (right after a commit that left work) and
 * every `intervalMs` (for work a crash or an outage left behind). Kicks that arrive during a pass
 * coalesce into one more pass, so a burst of commits costs a few passes, not one each. A pass
 * that throws is reported and left to the next kick or sweep.
 */
export class SweepLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly options: { intervalMs: number; onError: (err: unknown) => void },
  ) {}

  start(): this {
    this.timer = setInterval(() => this.kick(), this.options.intervalMs);
    this.timer.unref();
    this.kick();
    return this;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves when no pass runs (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No new pass starts; the one running finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (err) {
        this.options.onError(err);
      }
    } while (this.again && !this.stopped);
  }
}
