import { Writable } from "node:stream";
import pino from "pino";
import type { BaseConfig } from "../service";

export { openTestDatabase, openTransaction, workOn, createTestDatabase, templatePrefix, type SchemaOf } from "./database";

import { testSessionKeys } from "./keys";

export { testJwtKey, testSessionKeys } from "./keys";

/** The configuration a service gets in tests; `extra` sets the service's own settings. */
export function testConfig<E extends object>(natsUrl: string, extra: E = {} as E): BaseConfig & E {
  return {
    NODE_ENV: "test",
    PORT: 0,
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL as BaseConfig["LOG_LEVEL"]) ?? "silent",
    NATS_URL: natsUrl,
    // services in tests are given their database; this only satisfies the setting's type
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? "postgres://unused",
    DATABASE_POOL_SIZE: 5,
    JWT_PUBLIC_KEY: testSessionKeys.publicKey,
    COOKIE_SECURE: false,
    TRUST_PROXY: "loopback",
    NATS_MAX_DELIVER: 3,
    NATS_STREAM_REPLICAS: 1,
    SHUTDOWN_TIMEOUT_MS: 5_000,
    TICKETFORGE_SUPERVISED: false,
    ...extra,
  };
}

export const silentLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** A logger destination that keeps every line, parsed. */
export function logLines() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, sink };
}

export { signInCookie, signedToken } from "./session";

export { startTestService, type TestService } from "./service";
export * from "./events";
export { aUser, aTicket, anOrder, publish } from "./builders";
