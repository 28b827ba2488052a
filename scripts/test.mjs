// `npm test`: install what is missing, check the tools the suites need, then run every Jest
// project (unit, service integration, end-to-end, browser, manifests). Extra arguments go to Jest.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";

ensureInstall();

const onPath = (bin) =>
  (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/sbin", "/usr/local/sbin"]).some((d) => fs.existsSync(path.join(d, bin)));
if (!onPath("nats-server")) {
  console.error(
    "The integration tests start their own nats-server, and none is installed.\n" +
      "  Debian/Ubuntu: sudo apt-get install nats-server\n  macOS: brew install nats-server",
  );
  process.exit(1);
}

const jest = path.join(root, "node_modules", "jest", "bin", "jest.js");
const r = spawnSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", jest, "--maxWorkers=2", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
process.exit(r.status ?? 1);
