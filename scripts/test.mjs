// `npm test`: check the tools the suites need, install what is missing, then run every Jest
// project (unit, service integration, end-to-end, browser, manifests) on the project's Node.
// Extra arguments go to Jest. TEST_SIZE=long (`npm run test:long`) runs the long suites at their
// full size.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";
import { describeNode, pinnedNode, requireTools } from "./prerequisites.mjs";

const args = process.argv.slice(2);
// kubectl only for the manifest suites (the infra project): `--selectProjects auth` needs none
const selected = [];
for (let i = args.indexOf("--selectProjects") + 1; i > 0 && i < args.length && !args[i].startsWith("-"); i++) selected.push(args[i]);
// nginx (the gateway) for the suites that run one: the launcher's, end-to-end and the browser's
const all = selected.length === 0;
requireTools([
  "nats-server",
  ...(all || selected.some((p) => ["scripts", "e2e", "client"].includes(p)) ? ["nginx"] : []),
  ...(all || selected.includes("infra") ? ["kubectl"] : []),
]);
ensureInstall();

// the pinned Node even on the run that installed it (npm started this process on the machine's own)
const node = pinnedNode() ?? process.execPath;
const version = node === process.execPath ? process.version : spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
process.stdout.write(`${describeNode(node, version)}\n`);

const jest = path.join(root, "node_modules", "jest", "bin", "jest.js");
// The workers: given on the command line (`npm test -- --maxWorkers=1`), else TEST_WORKERS, else 4.
// Four on two cores: the long suites mostly wait (for windows, settling, restarts); with two
// workers a third of the CPU stayed idle, with three a quarter (docs/testing.md).
const workers = args.some((a) => /^(--maxWorkers|-w)(=|$)/.test(a)) ? [] : [`--maxWorkers=${process.env.TEST_WORKERS ?? 4}`];
const r = spawnSync(node, ["--experimental-vm-modules", "--no-warnings", jest, ...workers, ...args], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
process.exit(r.status ?? 1);
