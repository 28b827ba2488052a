import { spawnSync } from "node:child_process";
import path from "node:path";
import request from "supertest";
import { sql } from "@ticketforge/common";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { startTestService, testJwtKey, type TestService } from "@ticketforge/common/testing";
import { auth } from "../src/service";
import { passwordHasher } from "../src/password";
import { settings } from "../src/config";

let nats: NatsServer;
let service: TestService;
const api = () => request(service.app);

beforeAll(async () => {
  nats = await startNatsServer();
  service = await startTestService(auth, nats.url, { config: { AUTH_SCRYPT_LOG2_COST: 12 } });
});
afterAll(async () => {
  await service?.close();
  await nats?.destroy();
});

const storedHash = async (email: string) =>
  (await sql<{ password_hash: string }>`select password_hash from users where email = ${email}`.execute(service.ctx.db)).rows[0].password_hash;

describe("password hashing", () => {
  test("When nothing is configured, then passwords are hashed with scrypt at OWASP's minimum, N=2^17, r=8, p=1", async () => {
    expect(settings.AUTH_SCRYPT_LOG2_COST.parse(undefined)).toBe(17);
    const owasp = passwordHasher(17);
    const hash = await owasp.hash("correct horse battery");
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await owasp.verify("correct horse battery", hash)).toBe(true);
    expect(await owasp.verify("wrong horse battery", hash)).toBe(false);
  });

  test("When a user signs up, then the stored hash is made at the configured cost", async () => {
    const email = `new-${Date.now()}@example.com`;
    await api().post("/api/users/signup").send({ email, password: "correct horse battery" }).expect(201);
    expect(await storedHash(email)).toMatch(/^scrypt\$4096\$8\$1\$/);
  });

  test("When a user whose hash was made at an older cost signs in, then the sign-in works and the hash is upgraded", async () => {
    const email = `old-${Date.now()}@example.com`;
    const old = await passwordHasher(10).hash("correct horse battery");
    await sql`insert into users (email, password_hash) values (${email}, ${old})`.execute(service.ctx.db);

    expect((await api().post("/api/users/signin").send({ email, password: "wrong horse battery" })).status).toBe(400);
    expect(await storedHash(email)).toBe(old);

    expect((await api().post("/api/users/signin").send({ email, password: "correct horse battery" })).status).toBe(200);
    const upgraded = await storedHash(email);
    expect(upgraded).toMatch(/^scrypt\$4096\$8\$1\$/);
    expect((await api().post("/api/users/signin").send({ email, password: "correct horse battery" })).status).toBe(200);
    expect(await storedHash(email)).toBe(upgraded);
  });

  test("When production is given a cost below OWASP's minimum, then auth refuses to start", async () => {
    await expect(
      startTestService(auth, nats.url, { config: { NODE_ENV: "production", AUTH_SCRYPT_LOG2_COST: 12 } }),
    ).rejects.toThrow(/AUTH_SCRYPT_LOG2_COST must be at least 17 in production/);
  });
});

describe("JWT_KEY at start-up", () => {
  const root = path.join(__dirname, "..", "..");
  const start = (key: string) =>
    spawnSync(process.execPath, ["--import", "tsx", path.join(root, "auth", "src", "main.ts")], {
      cwd: root,
      env: { ...process.env, JWT_KEY: key, NATS_URL: "nats://127.0.0.1:1", DATABASE_URL: "postgres://127.0.0.1:1/auth", LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 30_000,
    });

  test.each([
    ["too short", testJwtKey, /JWT_KEY must be at least 32 characters \(it has 29\)/],
    ["a repeated word", "passwordpasswordpasswordpassword", /JWT_KEY looks guessable/],
    ["one character", "x".repeat(64), /JWT_KEY looks guessable/],
  ])("When JWT_KEY is %s, then the service stops at once with a configuration error that says how to make one", (_what, key, message) => {
    const run = start(key);
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/openssl rand -hex 32/);
  });
});
