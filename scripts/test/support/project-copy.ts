import { manifest } from "../../services";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const repo = path.join(__dirname, "..", "..", "..");
const copied = [
  "package.json",
  "package-lock.json",
  "services.json",
  "common",
  "nats",
  ...manifest.services.map((s) => s.folder),
  manifest.client.folder,
  "infra",
  "scripts",
];

/** A copy of the project as a user would have it (node_modules linked, no .data). */
export function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-start-"));
  fs.chmodSync(dir, 0o755); // like a user's clone: as root the database server runs as another user
  for (const entry of copied) {
    fs.cpSync(path.join(repo, entry), path.join(dir, entry), {
      preserveTimestamps: true,
      recursive: true,
      filter: (src) => !/node_modules|\.next|\.data|artifacts/.test(path.relative(repo, src)),
    });
  }
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

export interface NpmRun {
  child: ChildProcess;
  output: () => string;
  /** Resolves when every text has appeared in the output; rejects if the command exits first. */
  waitFor: (...texts: string[]) => Promise<void>;
  exited: Promise<number | null>;
}

/** `npm <args>` in cwd, in its own process group, so a test can press Ctrl-C on the whole group as a terminal does. */
export function npmRun(args: string[], cwd: string, env: NodeJS.ProcessEnv, running: ChildProcess[] = []): NpmRun {
  return commandRun("npm", args, cwd, env, running);
}

/** Any command run as npmRun runs npm. */
export function commandRun(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, running: ChildProcess[] = []): NpmRun {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor = (...texts: string[]) => {
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (texts.every((t) => output.includes(t))) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      void exited.then(() => {
        clearInterval(timer);
        reject(new Error(`${command} ${args.join(" ")} exited:\n${output}`));
      });
    });
    seen.catch(() => undefined); // a command that is meant to be refused never shows it
    return seen;
  };
  return { child, output: () => output, waitFor, exited };
}

/** Resolves when no process of the group is left (the launcher, services, nats-server). */
export async function groupGone(pgid: number) {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`processes of group ${pgid} still running`);
}

/** Kills what a test left running (its process groups), for afterAll. */
export function killGroups(running: ChildProcess[]) {
  for (const c of running) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The embedded PostgreSQL server's pid while it runs on dir's data directory. */
export function postmasterPid(dir: string): number | undefined {
  const file = path.join(dir, ".data", "postgres", "postmaster.pid");
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, "utf8").split("\n")[0]);
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
