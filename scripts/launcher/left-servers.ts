import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { isAlive } from "./lock";

/** A server's pid file in the data directory, and how to stop that server cleanly. */
export interface ServerPidFile {
  file: string;
  /** The program's name (`ps -o comm=`): a pid reused by another program is left alone. */
  command: string;
  /** PostgreSQL's fast shutdown is SIGINT. */
  signal: NodeJS.Signals;
}

/** Every server a launcher runs on `dataDir` writes its pid here: PostgreSQL, the one nats-server, each node of a cluster, the gateway. */
export function serverPidFiles(dataDir: string): ServerPidFile[] {
  const nodes = fs.existsSync(dataDir) ? fs.readdirSync(dataDir).filter((f) => /^nats-\d+\.pid$/.test(f)) : [];
  return [
    { file: path.join(dataDir, "postgres", "postmaster.pid"), command: "postgres", signal: "SIGINT" },
    { file: path.join(dataDir, "nats", "nats.pid"), command: "nats-server", signal: "SIGTERM" },
    ...nodes.map((f) => ({ file: path.join(dataDir, f), command: "nats-server", signal: "SIGTERM" as const })),
    { file: path.join(dataDir, "gateway", "nginx.pid"), command: "nginx", signal: "SIGQUIT" },
  ];
}

/** The pid in `file` when that process still runs `command`. */
export function runningServer({ file, command }: ServerPidFile): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, "utf8").split("\n")[0].trim());
  if (!pid || !isAlive(pid)) return undefined;
  const name = spawnSync("ps", ["-o", "comm=", "-p", String(pid)], { encoding: "utf8" }).stdout?.trim() ?? "";
  return path.basename(name) === command ? pid : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops the server of `pidFile` if one still runs (its signal, then SIGKILL after 15 s); returns its pid. */
export async function stopLeftServer(pidFile: ServerPidFile): Promise<number | undefined> {
  const pid = runningServer(pidFile);
  if (!pid) return undefined;
  try {
    process.kill(pid, pidFile.signal);
    for (let i = 0; i < 60 && isAlive(pid); i++) await sleep(250);
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
    for (let i = 0; i < 20 && isAlive(pid); i++) await sleep(250);
  } catch {
    // gone already
  }
  return pid;
}

/**
 * A launcher killed with its watchdogs (or a machine that froze them) may leave servers running
 * on the data directory: they hold its ports and files. The next launcher, and `npm run reset`
 * before it deletes the directory, stop them first.
 */
export async function stopLeftServers(dataDir: string, log: (line: string) => void): Promise<void> {
  for (const pidFile of serverPidFiles(dataDir)) {
    const pid = await stopLeftServer(pidFile);
    if (pid)
      log(`stopped ${pidFile.command} (process ${pid}), left running on ${path.dirname(pidFile.file)} by a launcher that was killed`);
  }
}
