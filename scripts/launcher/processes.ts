import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const root = path.join(__dirname, "..", "..");
const colours = [36, 35, 33, 32, 34, 91, 96];

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** URL answering 200 when the process is ready. */
  readyUrl?: string;
}

/**
 * Runs one child process with its output prefixed by its name (coloured in a terminal), and
 * restarts it with back-off when it crashes.
 */
export class Supervised {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private readonly colour: number;
  startedAt = 0;

  constructor(
    private readonly spec: ProcessSpec,
    private readonly out: (line: string) => void,
    index: number,
    private readonly colourful = process.stdout.isTTY,
  ) {
    this.colour = colours[index % colours.length];
  }

  get pid() {
    return this.child?.pid;
  }

  private prefix(): string {
    const label = this.spec.name.padEnd(10);
    return this.colourful ? `\x1b[${this.colour}m${label}\x1b[0m│ ` : `${label}| `;
  }

  start(): void {
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: root,
      env: { ...this.spec.env, TICKETFORGE_SUPERVISED: "1" },
      // stdin stays open as a lifeline: it closes when this process dies (see runService)
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.startedAt = Date.now();
    const pipe = (stream: NodeJS.ReadableStream | null) => {
      let buffer = "";
      stream?.on("data", (chunk) => {
        buffer += chunk;
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        // one write for all the lines a read brought: under load a service sends them in batches
        const text = lines.filter((line) => line.trim()).map((line) => this.prefix() + line).join("\n");
        if (text) this.out(text);
      });
    };
    pipe(child.stdout);
    pipe(child.stderr);
    child.once("exit", (code, signal) => {
      if (this.stopping) return;
      // a process that ran a while before crashing starts again at once; a crash loop slows down
      if (Date.now() - this.startedAt > 30_000) this.restarts = 0;
      const delay = Math.min(500 * 2 ** this.restarts, 30_000);
      this.restarts++;
      this.out(`${this.prefix()}exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => !this.stopping && this.start(), delay).unref();
    });
  }

  async waitReady(timeoutMs: number): Promise<boolean> {
    if (!this.spec.readyUrl) return true;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      // a process that died (e.g. its port was taken) is not ready, whatever answers on its port
      const alive = this.child && this.child.exitCode === null && this.child.signalCode === null;
      if (!alive) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      try {
        const res = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return true;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 8_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** For crash tests: SIGKILL without restarting. */
  async kill(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await gone;
  }

  /** Starts again after stop() or kill(). */
  restart(): void {
    this.stopping = false;
    this.restarts = 0;
    this.start();
  }
}
