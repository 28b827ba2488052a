import fs from "node:fs";
import path from "node:path";

/**
 * Keeps the stack's data directory to its owner: passwords, keys, the NATS store and the
 * PostgreSQL log (which shows emails in unique-violation details) are nobody else's business.
 * Directories 0700, files 0600, and a umask of 077 for everything the launcher and its children
 * create from now on (nats-server's store). Run as root, the directory itself is 0711: the
 * embedded PostgreSQL runs as the `postgres` user and must pass through it to its own
 * directory, without being able to list or read anything else.
 */
export function protectDataDir(dataDir: string, options: { traversableByPostgres?: boolean } = {}): void {
  process.umask(0o077);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.chmodSync(dataDir, options.traversableByPostgres ? 0o711 : 0o700);
  for (const entry of fs.readdirSync(dataDir, { withFileTypes: true })) {
    const p = path.join(dataDir, entry.name);
    // the cluster's own directories belong to the server, which keeps them at 0700 itself
    if (entry.name === "postgres" || entry.name === "postgres-socket") continue;
    if (entry.isDirectory()) restrictTree(p);
    else if (entry.isFile()) fs.chmodSync(p, 0o600);
  }
}

function restrictTree(dir: string) {
  fs.chmodSync(dir, 0o700);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) restrictTree(p);
    else if (entry.isFile()) fs.chmodSync(p, 0o600);
  }
}

/** True when the embedded PostgreSQL will run as another user than this process (root). */
export const runsAsRoot = () => typeof process.getuid === "function" && process.getuid() === 0;
