// `npm run dev`: at the root, the whole stack with reload on change (the launcher with --dev);
// in a service's folder (`npm run dev` there passes its name), that one service joined to a
// running local stack (scripts/launcher/dev-service.ts).
import { spawn } from "node:child_process";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";

ensureInstall();
const service = process.argv[2];
const args = service
  ? ["--import", "tsx", path.join(root, "scripts", "launcher", "dev-service.ts"), service]
  : ["--import", "tsx", path.join(root, "scripts", "launcher", "main.ts"), "--dev"];
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
