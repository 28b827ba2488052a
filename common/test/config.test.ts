import { baseSettings, ConfigError, loadConfig, newSessionKeyPair, priceInput, sessionKeySetting, toCents } from "../src";
import { testSessionKeys } from "../src/testing";

const JWT_PUBLIC_KEY = testSessionKeys.publicKey;

describe("configuration", () => {
  test("When variables are missing or invalid, then one error names every one of them", () => {
    const attempt = () =>
      loadConfig("tickets", baseSettings("tickets", 3002), { PORT: "abc", COOKIE_SECURE: "maybe", DATABASE_URL: "mysql://x" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/JWT_PUBLIC_KEY is required but not set/);
      expect(message).toMatch(/PORT must be a port number/);
      expect(message).toMatch(/COOKIE_SECURE must be true or false/);
      expect(message).toMatch(/DATABASE_URL must be a postgres:\/\/ URL/);
      expect(message).toMatch(/\.env\.example/);
    }
  });

  test("When only the required variables are set, then the defaults apply", () => {
    const config = loadConfig("orders", baseSettings("orders", 3003), { JWT_PUBLIC_KEY, DATABASE_URL: "postgres://db/orders" });
    expect(config).toMatchObject({
      PORT: 3003,
      NATS_URL: "nats://127.0.0.1:4222",
      DATABASE_POOL_SIZE: 10,
      COOKIE_SECURE: false,
      NATS_MAX_DELIVER: 5,
    });
  });

  test("When the pool's floor is above its ceiling, then start-up stops and names both settings", () => {
    expect(() =>
      loadConfig("orders", baseSettings("orders", 3003), {
        JWT_PUBLIC_KEY,
        DATABASE_URL: "postgres://db/orders",
        DATABASE_POOL_SIZE: "4",
        DATABASE_POOL_MIN: "6",
      }),
    ).toThrow(/DATABASE_POOL_MIN must be at most DATABASE_POOL_SIZE \(4\), not 6/);
  });

  test("When a service starts without its database, then the message names DATABASE_URL", () => {
    expect(() => loadConfig("orders", baseSettings("orders", 3003), { JWT_PUBLIC_KEY })).toThrow(/DATABASE_URL is required but not set/);
  });
});

describe("money", () => {
  test.each([
    [20.1, 2010],
    [0.29, 29],
    [19.99, 1999],
    [1_000_000, 100_000_000],
  ])("When %p is converted, then it is %p cents", (units, cents) => {
    expect(toCents(units)).toBe(cents);
  });

  test.each([20, 20.5, "20.50", "20"])("When the price is %p, then it is accepted", (value) => {
    expect(priceInput.safeParse(value).success).toBe(true);
  });

  test.each([0, -1, 20.123, 1_000_000.01, "abc", "", null, true, Infinity, 1e-9, 0.004, -0])(
    "When the price is %p, then it is refused",
    (value) => {
      expect(priceInput.safeParse(value).success).toBe(false);
    },
  );
});

describe("session keys", () => {
  const auth = { ...baseSettings("auth", 3001), JWT_PRIVATE_KEY: sessionKeySetting("private") };
  const env = { DATABASE_URL: "postgres://db/auth" };

  test("When the public key is not an Ed25519 key in PEM (an old shared HS256 secret, an RSA key), then start-up names JWT_PUBLIC_KEY and says how to make a pair", () => {
    const { generateKeyPairSync } = require("node:crypto") as typeof import("node:crypto");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    for (const value of ["0123456789abcdef0123456789abcdef", rsa]) {
      expect(() => loadConfig("orders", baseSettings("orders", 3003), { ...env, JWT_PUBLIC_KEY: value })).toThrow(
        /JWT_PUBLIC_KEY must be an Ed25519 .*openssl genpkey -algorithm ed25519/,
      );
    }
    expect(() => loadConfig("orders", baseSettings("orders", 3003), { ...env, JWT_PUBLIC_KEY: testSessionKeys.privateKey })).toThrow(
      /JWT_PUBLIC_KEY holds a private key/,
    );
  });

  test("When auth's private key is missing, is a public key, or belongs to another pair, then start-up says which", () => {
    expect(() => loadConfig("auth", auth, { ...env, JWT_PUBLIC_KEY })).toThrow(/JWT_PRIVATE_KEY is required but not set/);
    expect(() => loadConfig("auth", auth, { ...env, JWT_PUBLIC_KEY, JWT_PRIVATE_KEY: JWT_PUBLIC_KEY })).toThrow(
      /JWT_PRIVATE_KEY must be an Ed25519 private key/,
    );
    expect(() => loadConfig("auth", auth, { ...env, JWT_PUBLIC_KEY, JWT_PRIVATE_KEY: newSessionKeyPair().privateKey })).toThrow(
      /JWT_PRIVATE_KEY is not the private key of JWT_PUBLIC_KEY/,
    );
    expect(loadConfig("auth", auth, { ...env, JWT_PUBLIC_KEY, JWT_PRIVATE_KEY: testSessionKeys.privateKey }).JWT_PRIVATE_KEY).toBe(
      testSessionKeys.privateKey,
    );
  });

  test("When a key is written on one line with \\n for its line breaks (a .env file), then it is accepted", () => {
    const oneLine = JWT_PUBLIC_KEY.trim().replace(/\n/g, "\\n");
    expect(loadConfig("orders", baseSettings("orders", 3003), { ...env, JWT_PUBLIC_KEY: oneLine }).JWT_PUBLIC_KEY).toBe(oneLine);
  });
});
