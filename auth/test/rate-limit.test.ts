import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePorts, startNatsServer, waitForPort, type NatsServer } from "@ticketforge/nats";
import { openTestDatabase, startTestService, testSessionKeys, type TestService } from "@ticketforge/common/testing";
import type { Database } from "@ticketforge/common";
import { auth } from "../src/service";

/**
 * Two replicas of auth on one database, as in Kubernetes: two processes when the tests have a
 * PostgreSQL server (TEST_DATABASE_URL), else two instances in this process on one embedded
 * database. Either way each replica has its own HTTP server and nothing in memory is shared.
 */
interface Replica {
  url: string;
  stop(): Promise<void>;
}

const limits = {
  AUTH_RATE_LIMIT_PER_MINUTE: 4,
  AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT: 3,
  AUTH_SIGNIN_ATTEMPTS_PER_ACCOUNT_FROM_NEW_NETWORKS: 3,
  AUTH_SIGNIN_ACCOUNT_WINDOW_SECONDS: 900,
  // behind the gateway on loopback: X-Forwarded-For names the real client
  TRUST_PROXY: "loopback",
};

async function processReplica(natsUrl: string, databaseUrl: string, port: number): Promise<Replica> {
  const root = path.join(__dirname, "..", "..");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(root, "auth", "src", "main.ts")], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, String(v)])),
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      PORT: String(port),
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      // a process checks its key's strength at start-up; the in-process test key is too short for that
      JWT_PUBLIC_KEY: testSessionKeys.publicKey,
      JWT_PRIVATE_KEY: testSessionKeys.privateKey,
    },
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4_000)));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`auth exited (${code}): ${stderr}`))));
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 30_000), exited]);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

async function inProcessReplica(natsUrl: string, database: Database): Promise<Replica> {
  const service: TestService = await startTestService(auth, natsUrl, { database, config: limits });
  return { url: service.url, stop: () => service.close() };
}

let nats: NatsServer;
let database: Database;
let replicas: Replica[];

beforeAll(async () => {
  nats = await startNatsServer();
  database = await openTestDatabase(auth);
  // the schema first, by one replica, so that two fresh processes do not race on it
  await (await inProcessReplica(nats.url, database)).stop();
  const ports = await freePorts(2);
  replicas = await Promise.all(ports.map((port) => processReplica(nats.url, database.url, port)));
}, 90_000);
afterAll(async () => {
  for (const r of replicas ?? []) await r.stop();
  await database?.close();
  await nats?.destroy();
});

function post(replica: Replica, path: string, body: object, forwardedFor: string) {
  return fetch(`${replica.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    body: JSON.stringify(body),
  }).then(async (res) => ({
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as { errors: Array<{ message: string }> },
  }));
}

let addressCounter = 0;
const newAddress = () => `198.51.100.${++addressCounter}`;
const uniqueEmail = () => `user-${Math.random().toString(36).slice(2, 10)}@example.com`;

describe("rate limiting of sign-in and sign-up", () => {
  test("When one client address spreads its attempts over two replicas, then the limit counts them together: 429 with Retry-After", async () => {
    const address = newAddress();
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await post(replicas[i % 2], "/api/users/signin", { email: uniqueEmail(), password: "password123" }, address)).status);
    }
    expect(statuses).toEqual([400, 400, 400, 400]);
    const limited = await post(replicas[0], "/api/users/signin", { email: uniqueEmail(), password: "password123" }, address);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(limited.body.errors[0].message).toMatch(/^Too many attempts, try again in \d+ seconds$/);
    expect((await post(replicas[1], "/api/users/signin", { email: uniqueEmail(), password: "password123" }, address)).status).toBe(429);
    // another address is not limited by this one
    expect((await post(replicas[1], "/api/users/signin", { email: uniqueEmail(), password: "password123" }, newAddress())).status).toBe(
      400,
    );
  });

  test("When a stranger keeps guessing the owner's password from one address, then only that address is held back: the owner signs in from theirs", async () => {
    const email = uniqueEmail();
    const owners = newAddress();
    expect((await post(replicas[0], "/api/users/signup", { email, password: "right password" }, owners)).status).toBe(201);
    const stranger = newAddress();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post(replicas[i % 2], "/api/users/signin", { email, password: `guess ${i}` }, stranger)).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect((await post(replicas[1], "/api/users/signin", { email, password: "right password" }, stranger)).status).toBe(429);
    expect((await post(replicas[0], "/api/users/signin", { email, password: "right password" }, owners)).status).toBe(200);
  });

  test("When one client rotates through the addresses of its IPv6 /64, then they count as one address", async () => {
    const statuses = [];
    for (let i = 1; i <= 5; i++) {
      statuses.push(
        (
          await post(
            replicas[i % 2],
            "/api/users/signin",
            { email: uniqueEmail(), password: "password123" },
            `2001:db8:7:${addressCounter}::${i.toString(16)}`,
          )
        ).status,
      );
    }
    expect(statuses).toEqual([400, 400, 400, 400, 429]);
    // the next /64 is another client
    expect(
      (await post(replicas[0], "/api/users/signin", { email: uniqueEmail(), password: "password123" }, `2001:db8:7:${++addressCounter}::1`))
        .status,
    ).toBe(400);
  });

  test("When wrong passwords for one account come from ever new addresses on both replicas, then the account answers 429 after the limit there, even to the right password", async () => {
    const email = uniqueEmail();
    expect((await post(replicas[0], "/api/users/signup", { email, password: "right password" }, newAddress())).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      expect((await post(replicas[i % 2], "/api/users/signin", { email, password: `guess ${i}` }, newAddress())).status).toBe(400);
    }
    const limited = await post(replicas[1], "/api/users/signin", { email, password: "guess 3" }, newAddress());
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(800);
    expect(limited.body.errors[0].message).toMatch(/^Too many sign-in attempts for this account, try again in \d+ seconds$/);
    expect((await post(replicas[0], "/api/users/signin", { email, password: "right password" }, newAddress())).status).toBe(429);
    // another account is not limited by this one
    const other = uniqueEmail();
    await post(replicas[0], "/api/users/signup", { email: other, password: "right password" }, newAddress());
    expect((await post(replicas[1], "/api/users/signin", { email: other, password: "right password" }, newAddress())).status).toBe(200);
  });

  test("When the owner signs in successfully, then the count of failed attempts starts again", async () => {
    const email = uniqueEmail();
    await post(replicas[0], "/api/users/signup", { email, password: "right password" }, newAddress());
    for (let i = 0; i < 2; i++) await post(replicas[i % 2], "/api/users/signin", { email, password: "typo" }, newAddress());
    expect((await post(replicas[0], "/api/users/signin", { email, password: "right password" }, newAddress())).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect((await post(replicas[i % 2], "/api/users/signin", { email, password: "typo" }, newAddress())).status).toBe(400);
    }
    expect((await post(replicas[1], "/api/users/signin", { email, password: "right password" }, newAddress())).status).toBe(200);
  });
});
