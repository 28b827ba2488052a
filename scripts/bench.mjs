// `npm run bench`: install what is missing, then run the benchmarks (scripts/bench/main.ts).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";

ensureInstall();
const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "bench", "main.ts"), ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
