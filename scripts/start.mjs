// `npm start`: check the machine, install what is missing, then run the launcher
// (scripts/launcher/main.ts). The launcher runs in this very process, its TypeScript loaded
// through tsx's require hook, so the chain is npm → its shell → this process, not one Node process
// more: one Node start-up and one process's memory fewer. The launcher handles SIGINT/SIGTERM
// itself, and stops when the npm process is gone (a SIGTERM to npm stops at its shell). package.json
// starts it with --expose-gc: Node 24 grows this process's young generation during start-up and
// keeps it, and once the stack is ready one collection gives that back (compactHeap in
// common/src/heap.ts; the launcher's PSS while idle 111 MB before, about 70 MB after). Its young
// generation is no longer capped (it was at 4 MB for the same reason): under load the gateway
// spent a tenth of its time collecting. package.json also sets glibc's MALLOC_MMAP_THRESHOLD_ for
// this process, which every process of the stack inherits (docs/development.md, "Memory").
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import util from "node:util";
import { ensureInstall, root } from "./ensure-install.mjs";
import { describeNode, requireTools } from "./prerequisites.mjs";

// a stack given a NATS server of its own (NATS_URL, in the environment or .env) starts none
const envFile = path.join(root, ".env");
const natsUrl = process.env.NATS_URL || (fs.existsSync(envFile) ? util.parseEnv(fs.readFileSync(envFile, "utf8")).NATS_URL : undefined);
requireTools(natsUrl ? ["nginx"] : ["nats-server", "nginx"]);
ensureInstall();
process.stdout.write(`${describeNode()}\n`);
const require = createRequire(import.meta.url);
require("tsx/cjs/api").register();
require(path.join(root, "scripts", "launcher", "main.ts"));
// The launcher's modules are loaded: tsx compiled them with esbuild, whose service (a worker thread
// and an esbuild process) would otherwise stay for the stack's whole life, about 40 MB while idle
// (when tsx's cache had no copy, as on a fresh clone's first start). esbuild starts it again if
// anything is compiled later.
await require("esbuild").stop();
