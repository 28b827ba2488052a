// Installs dependencies when they are missing or older than package-lock.json, so `npm start` and
// `npm test` work on a fresh clone with nothing before them.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

export function ensureInstall() {
  const marker = path.join(root, "node_modules", ".package-lock.json");
  const lock = path.join(root, "package-lock.json");
  const fresh = fs.existsSync(marker) && (!fs.existsSync(lock) || fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs - 1000);
  if (fresh) return;
  const command = fs.existsSync(lock) ? "ci" : "install";
  process.stdout.write(`Installing dependencies (npm ${command}, about a minute the first time)…\n`);
  const r = spawnSync("npm", [command, "--no-audit", "--no-fund", "--loglevel=http"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write("npm install failed: see the messages above.\n");
    process.exit(r.status ?? 1);
  }
}
