// `npm run reset`: deletes the local data (embedded databases, the NATS store, the JWT key).
import fs from "node:fs";
import path from "node:path";
import { root } from "./ensure-install.mjs";

const dataDir = path.resolve(root, process.env.DATA_DIR ?? ".data");
if (!fs.existsSync(dataDir)) {
  console.log(`Nothing to delete: ${dataDir} does not exist.`);
  process.exit(0);
}
const lock = path.join(dataDir, "lock");
if (fs.existsSync(lock)) {
  const pid = Number(fs.readFileSync(lock, "utf8"));
  try {
    process.kill(pid, 0);
    console.log(`TicketForge is running (process ${pid}) on ${dataDir}: stop it first.`);
    process.exit(1);
  } catch {
    // stale lock
  }
}
console.log(`Deleting ${dataDir}:`);
for (const entry of fs.readdirSync(dataDir)) console.log(`  ${entry}${fs.statSync(path.join(dataDir, entry)).isDirectory() ? "/" : ""}`);
console.log("(every embedded database, the local NATS store and the generated JWT key)");
fs.rmSync(dataDir, { recursive: true, force: true });
console.log("Done. The next `npm start` begins with empty data.");
