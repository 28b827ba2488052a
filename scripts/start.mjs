// `npm start`: install what is missing, then run the launcher (scripts/launcher/main.ts).
// The launcher runs in this very process, its TypeScript loaded through tsx's require hook, so
// the chain is npm → this process, not npm → this process → another Node process: one Node
// start-up and one process's memory fewer. The launcher handles SIGINT/SIGTERM itself.
import { createRequire } from "node:module";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";

ensureInstall();
const require = createRequire(import.meta.url);
require("tsx/cjs/api").register();
require(path.join(root, "scripts", "launcher", "main.ts"));
