import { randomBytes } from "node:crypto";
import pino from "pino";
import { openDatabase, type Database } from "../db/database";
import type { BaseConfig } from "../service";

/**
 * The database of one test file: PGlite in memory by default, or a throw-away database on the
 * PostgreSQL server named by TEST_DATABASE_URL (created here, dropped on close), so every
 * database suite runs against both.
 */
export async function openTestDatabase(): Promise<Database> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) return openDatabase({});
  const name = `tf_test_${randomBytes(6).toString("hex")}`;
  const { Client } = await import("pg");
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString(), poolSize: 5 });
  return {
    ...db,
    close: async () => {
      await db.close();
      const dropper = new Client({ connectionString: server });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

export const testJwtKey = "test-jwt-key-0123456789abcdef";

/** The configuration a service gets in tests; `extra` sets the service's own settings. */
export function testConfig<E extends object>(natsUrl: string, extra: E = {} as E): BaseConfig & E {
  return {
    NODE_ENV: "test",
    PORT: 0,
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL as BaseConfig["LOG_LEVEL"]) ?? "silent",
    NATS_URL: natsUrl,
    DATABASE_URL: undefined,
    DATA_DIR: "",
    JWT_KEY: testJwtKey,
    COOKIE_SECURE: false,
    TRUST_PROXY: "loopback",
    NATS_MAX_DELIVER: 3,
    NATS_STREAM_REPLICAS: 1,
    SHUTDOWN_TIMEOUT_MS: 5_000,
    ...extra,
  };
}

export const silentLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export { signInCookie } from "./session";

export { startTestService, type TestService } from "./service";
export * from "./events";
