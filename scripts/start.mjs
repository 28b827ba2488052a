// `npm start`: install what is missing, then run the launcher (scripts/launcher/main.ts).
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";

ensureInstall();
const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "launcher", "main.ts")], {
  cwd: root,
  stdio: "inherit",
});
// the launcher stops everything on SIGINT/SIGTERM; pass them on and leave with its status
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
