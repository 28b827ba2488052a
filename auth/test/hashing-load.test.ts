import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { eventually, freePort, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { openTestDatabase, testSessionKeys } from "@ticketforge/common/testing";
import type { Database } from "@ticketforge/common";
import { auth } from "../src/service";

/** The auth container's memory limit (infra/k8s/base/auth.yaml and the prod overlay). */
const podLimitMiB = 384;

let nats: NatsServer;
let database: Database;
let child: ChildProcess;
let url: string;

/** auth as in production, in a process of its own, so that its memory is its own. */
beforeAll(async () => {
  nats = await startNatsServer();
  database = await openTestDatabase(auth);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "src", "main.ts")], {
    cwd: path.join(__dirname, "..", ".."),
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      NATS_URL: nats.url,
      DATABASE_URL: database.url,
      JWT_PUBLIC_KEY: testSessionKeys.publicKey,
      JWT_PRIVATE_KEY: testSessionKeys.privateKey,
      AUTH_RATE_LIMIT_PER_MINUTE: "100000",
      AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT: "100000",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 30_000);
}, 60_000);
afterAll(async () => {
  child?.kill("SIGTERM");
  await new Promise((resolve) => (child?.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
  await database?.close();
  await nats?.destroy();
});

/** The most memory the process has held so far (Linux: VmHWM, its peak resident set). */
function peakRssMiB(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return Math.round(kb / 1024);
}

const post = (route: string, body: object) =>
  fetch(`${url}/api/users/${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("password hashing under load, production settings", () => {
  test("When 50 sign-ins with unknown emails arrive at once, then auth's peak memory stays under its pod limit and each gets its answer", async () => {
    const before = peakRssMiB(child.pid!);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post("signin", { email: `nobody-${i}-${Date.now()}@example.com`, password: "correct horse battery" }),
      ),
    );
    const peak = peakRssMiB(child.pid!);
    console.log(`auth peak RSS: ${before} MiB before, ${peak} MiB after 50 parallel sign-ins`);
    expect(answers.map((r) => r.status)).toEqual(Array(50).fill(400));
    expect(peak).toBeLessThan(podLimitMiB * 0.75);
  }, 120_000);

  test("When buyers sign up 10 at a time, then at least 5 sign-ups a second go through (scrypt managed about 2)", async () => {
    const total = Number(process.env.SIGNUP_COUNT ?? 200);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < total) {
          const i = next++;
          const res = await post("signup", { email: `buyer-${i}-${Date.now()}@example.com`, password: "correct horse battery" });
          expect(res.status).toBe(201);
        }
      }),
    );
    const perSecond = total / ((performance.now() - started) / 1000);
    console.log(`sign-up rate: ${perSecond.toFixed(1)} per second (${total} sign-ups, 10 at a time)`);
    expect(perSecond).toBeGreaterThan(5);
  }, 300_000);
});
