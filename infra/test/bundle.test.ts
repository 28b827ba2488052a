// The images' build step, run here without Docker: each service is bundled by
// infra/docker/build.mjs exactly as its Dockerfile does, and the bundle is then started, which
// proves that the libraries work bundled, that the few packages it leaves external resolve, and
// that the files it reads beside its code (the SQL migrations) are where it looks for them.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { repoRoot, services } from "./support/k8s";
import { freePort, startNatsServer, type NatsServer } from "../../nats/src/server";
import { serviceRuntime } from "../../scripts/launcher/runtime";
import { testSessionKeys } from "../../common/src/testing/keys";

const run = promisify(execFile);

// The Node.js the bundles run on: the one `npm start` runs them on, the images' Node 24 LTS
// from the npm registry (scripts/launcher/runtime.ts).
const runtime = serviceRuntime().path;
const runtimeVersion = execFileSync(runtime, ["--version"], { encoding: "utf8" }).trim();

// Inside node_modules/, so that the bundle resolves its external packages from the root
// node_modules as it does from /app/node_modules in the image.
const outRoot = path.join(repoRoot, "node_modules/.cache/ticketforge-infra");
const built = services.filter((s) => fs.existsSync(path.join(repoRoot, s, "src/main.ts")));
const outdir = (service: string) => path.join(outRoot, service, "dist");

function sqlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".sql"));
}

const buildErrors: Record<string, string> = {};
const configRuns: Record<string, { code: number; namesJwtKey: boolean }> = {};

// The services are bundled and started in parallel: one after another would take seconds.
beforeAll(async () => {
  await Promise.all(
    built.map(async (service) => {
      try {
        await run(process.execPath, ["infra/docker/build.mjs", service, "--outdir", outdir(service)], { cwd: repoRoot });
      } catch (err) {
        buildErrors[service] = (err as { stderr?: string }).stderr || (err as Error).message;
        return;
      }
      const env = { PATH: process.env.PATH, NODE_ENV: "production" };
      configRuns[service] = await run(runtime, ["main.js"], { env, cwd: outdir(service) }).then(
        () => ({ code: 0, namesJwtKey: false }),
        (err: { code: number; stderr: string }) => ({ code: err.code, namesJwtKey: /JWT_PUBLIC_KEY/.test(err.stderr) }),
      );
    }),
  );
}, 60_000);

describe("bundling (the Dockerfiles' build stage)", () => {
  test("there are services to bundle", () => {
    expect(built.length).toBeGreaterThan(0);
  });

  test.each(built)("%s: dist/main.js with the SQL migrations of the service and of common beside it", (service) => {
    expect(buildErrors[service]).toBeUndefined();
    const out = outdir(service);
    expect(fs.statSync(path.join(out, "main.js")).size).toBeGreaterThan(0);
    for (const ws of [service, "common"]) {
      const expected = sqlFiles(path.join(repoRoot, ws, "src")).sort();
      expect(sqlFiles(path.join(out, ws, "src")).sort()).toEqual(expected);
    }
    // Workspace code and npm packages are bundled in; the few packages build.mjs names stay external.
    const main = fs.readFileSync(path.join(out, "main.js"), "utf8");
    expect(main).not.toMatch(/require\("@ticketforge\//);
    // strict mode, as the ES modules in it were written for: the directive opens the script
    expect(main.startsWith('"use strict";')).toBe(true);
    expect(main).not.toMatch(/require\("(express|kysely|zod|pg|nats|@nats-io\/[a-z-]+)"\)/);
    expect(main).toMatch(/require\("pino"\)/);
    // the source map covers the project's own code, not the libraries'
    const payload = JSON.parse(fs.readFileSync(path.join(out, "main.js.map"), "utf8")) as SourceMapPayload;
    const sources = payload.sources.map((s) => path.resolve(out, s));
    expect(sources).toContain(path.join(repoRoot, service, "src", "main.ts"));
    expect(sources.filter((s) => s.split(path.sep).includes("node_modules"))).toEqual([]);
    // ...and a frame is named as Node names it: the project's code after its TypeScript, a
    // library's (express, kysely here) after its place in the bundle, never after the project's
    // code before it on the same line
    const map = new SourceMap(payload);
    const origin = (code: string) => {
      const at = main.indexOf(code);
      expect(at).toBeGreaterThan(0);
      const before = main.slice(0, at);
      const entry = map.findEntry(before.split("\n").length - 1, at - (before.lastIndexOf("\n") + 1));
      const source = "originalSource" in entry ? entry.originalSource : undefined;
      return source ? path.resolve(out, source) : undefined;
    };
    expect(origin("function createLogger(")).toBe(path.join(repoRoot, "common", "src", "logger.ts"));
    expect(origin("function createApplication(")).toBeUndefined();
    expect(origin("var Kysely=")).toBeUndefined();
  });

  test.each(built)("%s: the bundle loads every dependency and checks its configuration first", (service) => {
    // 78 (EX_CONFIG) with JWT_PUBLIC_KEY named: it got past loading every module, to the config check.
    expect(configRuns[service]).toEqual({ code: 78, namesJwtKey: true });
  });
});

/**
 * The bundles started for real against a throw-away nats-server and a scratch database on the
 * PostgreSQL server of TEST_DATABASE_URL (else 127.0.0.1:5432, which the development and CI
 * machines have), as the Deployment runs them: /healthz and /readyz answer, and SIGTERM stops
 * them within the drain.
 */
describe(`the bundled services start on Node ${runtimeVersion}, report ready and stop on SIGTERM`, () => {
  const pgAdminUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  let nats: NatsServer | undefined;

  let admin: any;
  const databases: string[] = [];
  const children: ChildProcess[] = [];
  let unavailable = "";

  beforeAll(async () => {
    try {
      const { Client } = require("pg");
      admin = new Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 2_000 });
      await admin.connect();
    } catch (err) {
      await admin?.end().catch(() => undefined);
      admin = undefined;
      unavailable = `no PostgreSQL at ${pgAdminUrl} (${(err as Error).message})`;
      return;
    }
    nats = await startNatsServer();
  }, 30_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    for (const db of databases) await admin?.query(`drop database if exists "${db}" with (force)`).catch(() => undefined);
    await admin?.end().catch(() => undefined);
    await nats?.destroy();
  }, 30_000);

  const outcomes: Record<string, { ready: boolean; healthz: number; exitCode: number | null; stderr: string }> = {};

  beforeAll(async () => {
    if (unavailable) return;
    const bundled = built.filter((service) => !buildErrors[service]);
    await Promise.all(bundled.map(async (service) => (outcomes[service] = await startAndStop(service))));
  }, 60_000);

  async function startAndStop(service: string) {
    const db = `tf_infra_${service}_${process.pid}`;
    await admin.query(`drop database if exists "${db}" with (force)`);
    await admin.query(`create database "${db}"`);
    databases.push(db);
    const url = new URL(pgAdminUrl);
    url.pathname = `/${db}`;
    const port = await freePort();
    const child = spawn(runtime, ["main.js"], {
      cwd: outdir(service),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        PORT: String(port),
        JWT_PUBLIC_KEY: testSessionKeys.publicKey,
        ...(service === "auth" ? { JWT_PRIVATE_KEY: testSessionKeys.privateKey } : {}),
        DATABASE_URL: url.toString(),
        NATS_URL: nats!.url,
        LOG_LEVEL: "warn",
        SHUTDOWN_TIMEOUT_MS: "5000",
        // production refuses the sandbox unless it is chosen by name; no Stripe key here
        PAYMENTS_PROVIDER: "sandbox",
        // passes signs door codes with it and refuses to start without one
        PASSES_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    const deadline = Date.now() + 20_000;
    let ready = false;
    while (!ready && Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    const healthz = ready ? (await fetch(`http://127.0.0.1:${port}/healthz`)).status : 0;
    child.kill("SIGTERM");
    const exitCode = await exited;
    return { ready, healthz, exitCode, stderr: ready && exitCode === 0 ? "" : stderr };
  }

  test.each(built)("%s", (service) => {
    if (unavailable) {
      // Not a silent pass: the reason shows in the test output.
      console.warn(`skipped the start-up of ${service}: ${unavailable}`);
      return;
    }
    expect(outcomes[service]).toEqual({ ready: true, healthz: 200, exitCode: 0, stderr: "" });
  });
});
