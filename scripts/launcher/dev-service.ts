import fs from "node:fs";
import path from "node:path";
import { root, Supervised } from "./processes";
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
  const dataDir = path.resolve(root, process.env.DATA_DIR ?? ".data");
  const stateFile = path.join(dataDir, "stack.json");
  if (!fs.existsSync(stateFile)) {
    out(`No local stack is running on ${dataDir}. Start it first, without ${name}, in another terminal:`);
    out(`  SKIP_SERVICES=${name} npm start`);
    process.exit(1);
  }
  const stack = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { natsUrl: string; databaseUrls: Record<string, string>; ports: Ports };
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
