import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
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
  /** Readiness of a process that answers no HTTP (a database, a broker). */
  ready?: () => Promise<boolean>;
  /**
   * A server (PostgreSQL, nats-server): it runs in its own process group, so that a Ctrl-C reaches
   * the launcher alone, which stops the services first and the servers last; its output goes to
   * `logFile` (the supervisor's own lines still go to the launcher's output); and a watchdog beside
   * it stops it when this process dies, even by SIGKILL.
   */
  server?: {
    logFile: string;
    /** What stops it cleanly (PostgreSQL's fast shutdown is SIGINT). */
    stopSignal?: NodeJS.Signals;
    uid?: number;
    gid?: number;
  };
  /** A watchdog stops it when this process dies (servers always have one; for processes that do not watch their stdin). */
  watchdog?: boolean;
}

/**
 * A shell beside a child that waits on a pipe only this process holds: the pipe closes when this
 * process dies, however it dies, and the shell then stops the child (its stop signal, then SIGKILL
 * after 10 s). It runs in its own process group, deaf to the terminal's signals, so that it
 * outlives whatever kills the launcher. It exits with its child; a child that exits first has its
 * watchdog ended by the supervisor.
 */
export function startWatchdog(pid: number, signal: NodeJS.Signals = "SIGTERM"): ChildProcess {
  const script = [
    "trap '' HUP INT TERM",
    "read _ignored",
    `kill -s ${signal.replace(/^SIG/, "")} "$1" 2>/dev/null || exit 0`,
    "i=0",
    'while kill -0 "$1" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i+1)); done',
    'kill -s KILL "$1" 2>/dev/null',
    "exit 0",
  ].join("\n");
  const watchdog = spawn("/bin/sh", ["-c", script, "watchdog", String(pid)], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  watchdog.on("error", () => undefined);
  watchdog.stdin?.on("error", () => undefined);
  // neither the watchdog nor its pipe keeps this process alive
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

/**
 * Runs one child process with its output prefixed by its name (coloured in a terminal), and
 * restarts it with back-off when it crashes.
 */
export class Supervised {
  private child?: ChildProcess;
  private watchdog?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private readonly colour: number;
  startedAt = 0;
  /** How many times it exited without being asked to. */
  crashes = 0;

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

  get name() {
    return this.spec.name;
  }

  /** True while its process runs. */
  get running() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const server = this.spec.server;
    const logFd = server ? fs.openSync(server.logFile, "a") : undefined;
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: root,
      env: { ...this.spec.env, TICKETFORGE_SUPERVISED: "1" },
      // a service's stdin stays open as a lifeline: it closes when this process dies (see runService)
      stdio: logFd !== undefined ? ["ignore", logFd, logFd] : ["pipe", "pipe", "pipe"],
      detached: !!server,
      uid: server?.uid,
      gid: server?.gid,
    });
    if (logFd !== undefined) fs.closeSync(logFd);
    child.on("error", (err) => this.out(`${this.prefix()}${err.message}`));
    this.child = child;
    this.startedAt = Date.now();
    if ((server || this.spec.watchdog) && child.pid) this.watchdog = startWatchdog(child.pid, server?.stopSignal);
    const pipe = (stream: NodeJS.ReadableStream | null) => {
      let buffer = "";
      stream?.on("data", (chunk) => {
        buffer += chunk;
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        // one write for all the lines a read brought: under load a service sends them in batches
        const text = lines
          .filter((line) => line.trim())
          .map((line) => this.prefix() + line)
          .join("\n");
        if (text) this.out(text);
      });
    };
    pipe(child.stdout);
    pipe(child.stderr);
    child.once("exit", (code, signal) => {
      this.watchdog?.kill("SIGKILL");
      this.watchdog = undefined;
      if (this.stopping) return;
      this.crashes++;
      // a process that ran a while before crashing starts again at once; a crash loop slows down
      if (Date.now() - this.startedAt > 30_000) this.restarts = 0;
      const delay = Math.min(500 * 2 ** this.restarts, 30_000);
      this.restarts++;
      this.out(`${this.prefix()}exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => !this.stopping && this.start(), delay).unref();
    });
    // a server outlives the launcher's event loop only through its watchdog
    if (server) child.unref();
  }

  async waitReady(timeoutMs: number): Promise<boolean> {
    if (!this.spec.readyUrl && !this.spec.ready) return true;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      // a process that died (e.g. its port was taken) is not ready, whatever answers on its port
      const alive = this.child && this.child.exitCode === null && this.child.signalCode === null;
      if (!alive) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      try {
        if (this.spec.ready) {
          if (await this.spec.ready()) return true;
        } else {
          const res = await fetch(this.spec.readyUrl!, { signal: AbortSignal.timeout(1_000) });
          if (res.ok) return true;
        }
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
    child.kill(this.spec.server?.stopSignal ?? "SIGTERM");
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
