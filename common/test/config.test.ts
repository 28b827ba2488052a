import { baseSettings, ConfigError, jwtKeyProblem, loadConfig, priceInput, toCents } from "../src";

describe("configuration", () => {
  test("When variables are missing or invalid, then one error names every one of them", () => {
    const attempt = () => loadConfig("tickets", baseSettings("tickets", 3002), { PORT: "abc", COOKIE_SECURE: "maybe", DATABASE_URL: "mysql://x" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/JWT_KEY is required but not set/);
      expect(message).toMatch(/PORT must be a port number/);
      expect(message).toMatch(/COOKIE_SECURE must be true or false/);
      expect(message).toMatch(/DATABASE_URL must be a postgres:\/\/ URL/);
      expect(message).toMatch(/\.env\.example/);
    }
  });

  test("When only the required variables are set, then the defaults apply", () => {
    const config = loadConfig("orders", baseSettings("orders", 3003), { JWT_KEY: "k".repeat(32), DATABASE_URL: "postgres://db/orders" });
    expect(config).toMatchObject({ PORT: 3003, NATS_URL: "nats://127.0.0.1:4222", DATABASE_POOL_SIZE: 10, COOKIE_SECURE: false, NATS_MAX_DELIVER: 5 });
  });

  test("When a service starts without its database, then the message names DATABASE_URL", () => {
    expect(() => loadConfig("orders", baseSettings("orders", 3003), { JWT_KEY: "k".repeat(32) })).toThrow(/DATABASE_URL is required but not set/);
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

  test.each([0, -1, 20.123, 1_000_000.01, "abc", "", null, true, Infinity, 1e-9, 0.004, -0])("When the price is %p, then it is refused", (value) => {
    expect(priceInput.safeParse(value).success).toBe(false);
  });
});

describe("JWT_KEY strength", () => {
  test("When the key is random (openssl rand -hex 32 or base64 of 24 bytes), then it is accepted", () => {
    const { randomBytes } = require("node:crypto") as typeof import("node:crypto");
    for (let i = 0; i < 50; i++) {
      expect(jwtKeyProblem(randomBytes(32).toString("hex"))).toBeUndefined();
      expect(jwtKeyProblem(randomBytes(24).toString("base64"))).toBeUndefined();
    }
  });

  test.each([["short-key-0123456789"], ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ["secretsecretsecretsecretsecretsecret"]])(
    "When the key is %p, then it is refused",
    (key) => {
      expect(jwtKeyProblem(key)).toMatch(/openssl rand -hex 32/);
    },
  );
});
