import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * A throw-away `nats-server -js` for tests: a free port, a temporary store, stopped even when a
 * test fails (the process dies with its parent), and restartable on the same port and store to
 * simulate a broker crash.
 */
export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server (SIGKILL by default, like a crash; `graceful` sends SIGTERM). */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  destroy(): Promise<void>;
  readonly running: boolean;
}

export function natsServerBinary(): string | undefined {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  const candidates = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"]);
  for (const dir of candidates) {
    const p = path.join(dir, "nats-server");
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Free ports, picked at random below the machine's ephemeral range (Linux's
 * ip_local_port_range, 32768–60999 by default; macOS starts at 49152): the kernel hands ports of
 * that range to every listen(0) and every outgoing connection, so a server given one could find it
 * taken when it restarts after a crash. Below it, a port stays free for its server while it is
 * down. A port is free when nothing listens on it and no other live process was handed it
 * (reservePorts): between this answer and the server's start, which may take seconds, another
 * test process's stack must not be given the same port.
 */
export async function freePorts(count: number): Promise<number[]> {
  const top = ephemeralRangeStart() - 1;
  const bottom = 15_000;
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > 100 + 20 * count) throw new Error(`no ${count} free ports between ${bottom} and ${top} on 127.0.0.1`);
      // a machine whose ephemeral range starts low: the kernel's choice, as before
      const wanted = top - bottom < 1_000 ? 0 : bottom + Math.floor(Math.random() * (top - bottom + 1));
      if (ports.includes(wanted)) continue;
      const srv = await listening(wanted);
      if (!srv) continue;
      held.push(srv);
      const port = (srv.address() as net.AddressInfo).port;
      if (reservePorts([port])) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((srv) => new Promise((resolve) => srv.close(resolve))));
  }
}

/** Where each port handed out is noted with the process it was handed to (a file per port). */
const reservations = path.join(os.tmpdir(), "ticketforge-ports");

/**
 * Notes `ports` as this process's, for as long as it lives; false (and none noted) when another
 * live process holds one of them. A note left by a process that died is taken over.
 */
export function reservePorts(ports: number[]): boolean {
  fs.mkdirSync(reservations, { recursive: true });
  const taken: number[] = [];
  for (const port of ports) {
    if (!reserveOne(port)) {
      for (const mine of taken) fs.rmSync(path.join(reservations, String(mine)), { force: true });
      return false;
    }
    taken.push(port);
  }
  return true;
}

function reserveOne(port: number): boolean {
  const file = path.join(reservations, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return true;
    } catch {
      let holder = Number.NaN;
      try {
        holder = Number(fs.readFileSync(file, "utf8"));
      } catch {
        continue; // gone meanwhile: try again
      }
      if (holder === process.pid) return true;
      if (!Number.isInteger(holder) || holder <= 0 || alive(holder)) return false; // a note still being written counts as held
      // its process died: of several takers, the one whose rename succeeds removes it
      const stale = `${file}.${process.pid}.stale`;
      try {
        fs.renameSync(file, stale);
        fs.rmSync(stale, { force: true });
      } catch {
        // another process took it over first
      }
    }
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

function ephemeralRangeStart(): number {
  try {
    const first = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return first > 1024 ? first : 32_768;
  } catch {
    return 32_768; // not Linux: below every system's default range
  }
}

/** A server listening on `port` of 127.0.0.1, or undefined when the port is taken. */
function listening(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "127.0.0.1", () => resolve(srv));
  });
}

export function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listening on port ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Spawns nats-server and resolves once it accepts connections on `port` (rejects if it exits first). */
export async function launchNatsServer(bin: string, args: string[], port: number, env?: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"], env: env ?? process.env });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-2_000)));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`nats-server exited (${code}): ${stderr}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port), exited]);
  return child;
}

export async function startNatsServer(
  options: {
    port?: number;
    storeDir?: string;
    /** A configuration file (e.g. with an authorization block): port and address given here win; its store_dir is used. */
    configFile?: string;
    /** Environment of the server: a configuration's `$VARIABLES` come from it. */
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<NatsServer> {
  const bin = natsServerBinary();
  if (!bin) {
    throw new Error(
      "nats-server not found on PATH: install it (apt-get install nats-server, brew install nats-server, or docker run nats -js)",
    );
  }
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tf-nats-"));
  let child: ChildProcess | undefined;

  const start = async () => {
    const config = options.configFile ? ["-c", options.configFile] : ["-sd", storeDir];
    child = await launchNatsServer(
      bin,
      [...config, "-js", "-a", "127.0.0.1", "-p", String(port)],
      port,
      options.env ? { ...process.env, ...options.env } : undefined,
    );
  };

  const stop = async ({ graceful = false } = {}) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill(graceful ? "SIGTERM" : "SIGKILL");
    await gone;
  };

  await start();
  // a test process that dies must not leave a server behind
  const onExit = () => child?.kill("SIGKILL");
  process.once("exit", onExit);

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    async destroy() {
      await stop();
      process.removeListener("exit", onExit);
      if (!options.storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
    },
    get running() {
      return child !== undefined && child.exitCode === null;
    },
  };
}

/** True when `nats-server` is installed (the CI script installs it when it is not). */
export function hasNatsServer(): boolean {
  const bin = natsServerBinary();
  return !!bin && spawnSync(bin, ["--version"]).status === 0;
}
