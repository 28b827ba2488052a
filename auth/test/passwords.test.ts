import { spawnSync } from "node:child_process";
import { randomBytes, scryptSync } from "node:crypto";
import path from "node:path";
import request from "supertest";
import { newSessionKeyPair, sql } from "@ticketforge/common";
import { startNatsServer, type NatsServer } from "@ticketforge/nats";
import { startTestService, testSessionKeys, type TestService } from "@ticketforge/common/testing";
import { auth } from "../src/service";
import { passwordHasher } from "../src/password";
import { settings } from "../src/config";

let nats: NatsServer;
let service: TestService;
const api = () => request(service.app);

beforeAll(async () => {
  nats = await startNatsServer();
  service = await startTestService(auth, nats.url);
});
afterAll(async () => {
  await service?.close();
  await nats?.destroy();
});

const storedHash = async (email: string) =>
  (await sql<{ password_hash: string }>`select password_hash from users where email = ${email}`.execute(service.ctx.db)).rows[0]
    .password_hash;

/** A hash as the scrypt of earlier releases stored it: scrypt$N$r$p$salt$hash. */
function scryptHash(password: string, log2N = 10): string {
  const salt = randomBytes(16);
  const derived = scryptSync(password, salt, 64, { N: 2 ** log2N, r: 8, p: 1 });
  return ["scrypt", 2 ** log2N, 8, 1, salt.toString("base64"), derived.toString("base64")].join("$");
}

describe("password hashing", () => {
  test("When nothing is configured, then passwords are hashed with Argon2id at OWASP's parameters: 19 MiB, 2 passes, parallelism 1", async () => {
    const passwords = passwordHasher({ concurrency: settings.AUTH_HASH_CONCURRENCY.parse(undefined), maxWaiting: 10 });
    const hash = await passwords.hash("correct horse battery");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await passwords.verify("correct horse battery", hash)).toBe(true);
    expect(await passwords.verify("wrong horse battery", hash)).toBe(false);
    expect(passwords.needsUpgrade(hash)).toBe(false);
  });

  test("When a user signs up, then the stored hash is Argon2id", async () => {
    const email = `new-${Date.now()}@example.com`;
    await api().post("/api/users/signup").send({ email, password: "correct horse battery" }).expect(201);
    expect(await storedHash(email)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test("When a user whose hash an earlier release made with scrypt signs in, then the sign-in works and the hash is upgraded to Argon2id", async () => {
    const email = `old-${Date.now()}@example.com`;
    const old = scryptHash("correct horse battery");
    await sql`insert into users (email, password_hash) values (${email}, ${old})`.execute(service.ctx.db);

    expect((await api().post("/api/users/signin").send({ email, password: "wrong horse battery" })).status).toBe(400);
    expect(await storedHash(email)).toBe(old);

    expect((await api().post("/api/users/signin").send({ email, password: "correct horse battery" })).status).toBe(200);
    const upgraded = await storedHash(email);
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await api().post("/api/users/signin").send({ email, password: "correct horse battery" })).status).toBe(200);
    expect(await storedHash(email)).toBe(upgraded);
  });

  test("When many hashes are asked for at once, then no more than the configured number run together and the rest wait their turn", async () => {
    const passwords = passwordHasher({ concurrency: 1, maxWaiting: 100 });
    await passwords.decoy;
    const all = Array.from({ length: 5 }, () => passwords.hash("correct horse battery"));
    expect(passwords.waiting()).toBe(4);
    await Promise.all(all);
    expect(passwords.waiting()).toBe(0);
  });

  test("When more sign-ins wait for a hash than the queue holds, then the extra ones answer 503 with Retry-After and the others are answered", async () => {
    const busy = await startTestService(auth, nats.url, {
      config: { AUTH_HASH_CONCURRENCY: 1, AUTH_HASH_QUEUE: 2, AUTH_RATE_LIMIT_PER_MINUTE: 1000 },
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request(busy.app)
            .post("/api/users/signin")
            .send({ email: `nobody-${i}@example.com`, password: "correct horse battery" }),
        ),
      );
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(3);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 400 || s === 503)).toBe(true);
      expect(answers.find((r) => r.status === 503)!.headers["retry-after"]).toBe("1");
    } finally {
      await busy.close();
    }
  });
});

describe("session keys at start-up", () => {
  const root = path.join(__dirname, "..", "..");
  const start = (keys: Record<string, string>) =>
    spawnSync(process.execPath, ["--import", "tsx", path.join(root, "auth", "src", "main.ts")], {
      cwd: root,
      env: { ...process.env, ...keys, NATS_URL: "nats://127.0.0.1:1", DATABASE_URL: "postgres://127.0.0.1:1/auth", LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 30_000,
    });

  test.each([
    [
      "the old shared secret",
      { JWT_KEY: "0123456789abcdef0123456789abcdef" },
      /JWT_PUBLIC_KEY is required but not set[\s\S]*JWT_PRIVATE_KEY is required but not set/,
    ],
    [
      "a private key of another pair",
      { JWT_PUBLIC_KEY: testSessionKeys.publicKey, JWT_PRIVATE_KEY: newSessionKeyPair().privateKey },
      /JWT_PRIVATE_KEY is not the private key of JWT_PUBLIC_KEY/,
    ],
    [
      "not a key",
      { JWT_PUBLIC_KEY: testSessionKeys.publicKey, JWT_PRIVATE_KEY: "secret" },
      /JWT_PRIVATE_KEY must be an Ed25519 private key in PEM/,
    ],
  ])("When auth is given %s, then it stops at once with a configuration error that names the key", (_what, keys, message) => {
    const run = start(keys);
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(message);
  });
});
