// Installs dependencies when they are missing or do not match package-lock.json, so `npm start`
// and `npm test` work on a fresh clone with nothing before them.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

const lockFile = path.join(root, "package-lock.json");
const stamp = path.join(root, "node_modules", ".ticketforge-install");
const lockHash = () => crypto.createHash("sha256").update(fs.readFileSync(lockFile)).digest("hex");

/** True when node_modules was installed from the current package-lock.json (by content, not date). */
export function installIsCurrent() {
  if (!fs.existsSync(path.join(root, "node_modules", ".package-lock.json"))) return false;
  if (!fs.existsSync(lockFile)) return true;
  if (fs.existsSync(stamp)) return fs.readFileSync(stamp, "utf8") === lockHash();
  // installed by a plain `npm install`: trust it unless the lock file changed after it
  return fs.statSync(path.join(root, "node_modules", ".package-lock.json")).mtimeMs >= fs.statSync(lockFile).mtimeMs - 1000;
}

export function ensureInstall() {
  if (installIsCurrent()) return;
  if (fs.lstatSync(path.join(root, "node_modules"), { throwIfNoEntry: false })?.isSymbolicLink()) {
    // a linked node_modules belongs to another checkout: reinstalling here would wipe it
    process.stderr.write("node_modules is a link to another checkout and does not match package-lock.json: run npm ci there.\n");
    process.exit(1);
  }
  const command = fs.existsSync(lockFile) ? "ci" : "install";
  process.stdout.write(`Installing dependencies (npm ${command}, about a minute the first time)…\n`);
  const r = spawnSync("npm", [command, "--no-audit", "--no-fund", "--loglevel=http"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write("npm install failed: see the messages above.\n");
    process.exit(r.status ?? 1);
  }
  if (fs.existsSync(lockFile)) fs.writeFileSync(stamp, lockHash());
}
