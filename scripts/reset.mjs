// `npm run reset`: deletes the local data (embedded databases, the NATS store, the JWT key).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { root } from "./ensure-install.mjs";

const dataDir = path.resolve(root, process.env.DATA_DIR ?? ".data");
if (!fs.existsSync(dataDir)) {
  console.log(`Nothing to delete: ${dataDir} does not exist.`);
  process.exit(0);
}
const require = createRequire(import.meta.url);
require("tsx/cjs/api").register();
const { isAlive } = require(path.join(root, "scripts", "launcher", "lock.ts"));
const { stopLeftServers } = require(path.join(root, "scripts", "launcher", "left-servers.ts"));

const lock = path.join(dataDir, "lock");
if (fs.existsSync(lock)) {
  const pid = Number(fs.readFileSync(lock, "utf8"));
  if (pid && isAlive(pid)) {
    console.log(`TicketForge is running (process ${pid}) on ${dataDir}: stop it first.`);
    process.exit(1);
  }
}
// a server still running on the directory would keep its port and write into deleted files
await stopLeftServers(dataDir, (line) => console.log(line));
console.log(`Deleting ${dataDir}:`);
for (const entry of fs.readdirSync(dataDir)) console.log(`  ${entry}${fs.statSync(path.join(dataDir, entry)).isDirectory() ? "/" : ""}`);
console.log("(every embedded database, the local NATS store and the generated JWT key)");
fs.rmSync(dataDir, { recursive: true, force: true });
console.log("Done. The next `npm start` begins with empty data.");
