import fs from "node:fs";
import path from "node:path";

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by process ${pid}`);
    this.name = "DataDirLockedError";
  }
}

/**
 * One launcher per data directory: its databases and NATS store belong to one running stack.
 * A lock file holding the owner's pid refuses the second launcher; a lock left by a dead process
 * (the launcher was killed) is taken over.
 */
export function lockDir(dir: string): () => void {
  const file = path.join(dir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return () => {
        try {
          if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(fs.readFileSync(file, "utf8"));
      if (pid && (pid === process.pid || isAlive(pid))) throw new DataDirLockedError(dir, pid);
      fs.unlinkSync(file); // stale: its owner died without releasing it
    }
  }
  throw new Error(`Cannot lock ${dir}`);
}

/** True when a process with this pid runs (possibly as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
