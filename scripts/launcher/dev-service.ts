import fs from "node:fs";
import path from "node:path";
import { root, Supervised } from "./processes";
import { dataDirFrom, findRunningStack } from "./running-stack";
import { serviceRuntime } from "./runtime";
import { sessionKeysFor, withSessionKeys } from "./session-keys";
import { listenHost } from "./settings";
import { isPortFree, services, watchAndRestart, type Ports } from "./stack";

/**
 * `npm run dev` in a service's folder: that one service, restarted when its code or common/
 * changes, joined to the NATS and database of a running local stack (`npm start` or the root
 * `npm run dev`), on the port where the stack's gateway sends its requests.
 */
async function main() {
  const name = process.argv[2];
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!name || !(services as readonly string[]).includes(name)) {
    out(`usage: npm run dev (in one of ${services.join(", ")})`);
    process.exit(2);
  }
  const envFile = path.join(root, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const dataDir = dataDirFrom(process.env);
  const stack = findRunningStack(dataDir);
  if ("missing" in stack) {
    out(stack.missing.replace("npm start", `SKIP_SERVICES=${name} npm start`));
    process.exit(1);
  }
  const port = stack.ports[name as keyof Ports];
  if (!(await isPortFree(port))) {
    out(`${name} already runs in the local stack on port ${port}. Restart the stack without it, then run this again:`);
    out(`  SKIP_SERVICES=${name} npm start`);
    process.exit(1);
  }
  const child = new Supervised(
    {
      name,
      command: serviceRuntime().path,
      args: ["--import", "tsx", path.join(root, name, "src", "main.ts")],
      readyUrl: `http://127.0.0.1:${port}/readyz`,
      env: {
        ...withSessionKeys(name, process.env, sessionKeysFor(dataDir, process.env)),
        NODE_ENV: process.env.NODE_ENV ?? "development",
        PORT: String(port),
        HOST: listenHost(process.env),
        NATS_URL: stack.natsUrl,
        // the stack's own nats-server has one account per service (as in production): this
        // service's; with NATS_URL given to the stack, NATS_USER/NATS_PASSWORD from the environment
        ...(stack.nats?.services[name] && { NATS_USER: stack.nats.services[name].user, NATS_PASSWORD: stack.nats.services[name].password }),
        DATABASE_URL: stack.databaseUrls[name],
      },
    },
    out,
    0,
  );
  child.start();
  const watcher = watchAndRestart(name, child, out);
  const stop = async () => {
    watcher.close();
    await child.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  if (await child.waitReady(60_000)) out(`${name} ready on :${port}; it restarts when ${name}/src or common/src changes (Ctrl-C stops it)`);
}

void main();
