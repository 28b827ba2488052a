import { z } from "zod";
import { sessionKeyMismatch, sessionKeySetting } from "./http/session-keys";

/**
 * Typed configuration from the environment. Every setting is an environment variable named by
 * its key; `loadConfig` checks them all at once so that start-up fails with one message naming
 * every missing or invalid variable, instead of the first one only.
 */
export type Settings = z.ZodRawShape;
export type ConfigOf<S extends Settings> = z.infer<z.ZodObject<S>>;

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(
      `${service}: invalid configuration\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        `\nSee .env.example for every variable, its default and its meaning.`,
    );
    this.name = "ConfigError";
  }
}

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

const port = (fallback: number) => z.coerce.number({ message: "must be a port number" }).int().min(1).max(65535).default(fallback);

const positiveInt = (fallback: number) => z.coerce.number({ message: "must be a whole number" }).int().positive().default(fallback);

const anyWholeNumber = () => z.coerce.number({ message: "must be a whole number" }).int().min(0, "must be 0 or more");

const wholeNumber = (fallback: number) => anyWholeNumber().default(fallback);

/** Helpers for service-specific settings. */
export const setting = { bool, port, positiveInt, wholeNumber };

/** Settings every service reads. */
export function baseSettings(service: string, defaultPort: number) {
  return {
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: port(defaultPort),
    /**
     * The address to listen on. Unset: every interface (a container, reached on the pod's
     * address); npm start sets 127.0.0.1 so that nobody else on the network reaches the services.
     */
    HOST: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
    /** This service's NATS user and password, on a server with authorization (one user per service). */
    NATS_USER: z.string().min(1).optional(),
    // nats-server reads the same password from its environment as a configuration value: a bare
    // word parses as itself, while "7…" would parse as a number and a quote or brace breaks the file
    NATS_PASSWORD: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{15,}$/, "must be at least 16 letters and digits, starting with a letter")
      .optional(),
    /** This service's own PostgreSQL database (`npm start` passes one on its embedded server). */
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
    /** Most database connections one process of this service opens. */
    DATABASE_POOL_SIZE: positiveInt(10),
    /**
     * Database connections kept open while idle (unset: DATABASE_POOL_SIZE, every connection a burst
     * opened); those beyond it close after a minute idle.
     */
    DATABASE_POOL_MIN: anyWholeNumber().optional(),
    /** The Ed25519 public key (PEM) that session tokens are verified with; auth alone holds the private key. */
    JWT_PUBLIC_KEY: sessionKeySetting("public"),
    COOKIE_SECURE: bool(false),
    /** Which proxies to trust for X-Forwarded-For: a hop count, "loopback", a list of addresses. */
    TRUST_PROXY: z.string().default("loopback"),
    /** Deliveries of a failing event before it is parked in the dead-letter stream. */
    NATS_MAX_DELIVER: positiveInt(5),
    /** Replicas of each JetStream stream: 1 on one server, 3 on a JetStream cluster. */
    NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
    SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
    /** Set by `npm start`'s launcher: the service stops when the launcher's pipe on its stdin closes. */
    TICKETFORGE_SUPERVISED: bool(false),
  };
}

export function loadConfig<S extends Settings>(service: string, settings: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(settings)) {
    const raw = env[key];
    input[key] = raw === undefined || raw === "" ? undefined : raw;
  }
  const parsed = z.object(settings).safeParse(input);
  if (parsed.success) {
    // checks across settings: the signing key must belong to the verifying one, and the pool's floor be under its ceiling
    const { JWT_PRIVATE_KEY: privateKey, JWT_PUBLIC_KEY: publicKey } = parsed.data as { JWT_PRIVATE_KEY?: string; JWT_PUBLIC_KEY?: string };
    const mismatch = privateKey && publicKey ? sessionKeyMismatch(privateKey, publicKey) : undefined;
    if (mismatch) throw new ConfigError(service, [mismatch]);
    const { DATABASE_POOL_SIZE: poolSize, DATABASE_POOL_MIN: poolMin } = parsed.data as {
      DATABASE_POOL_SIZE?: number;
      DATABASE_POOL_MIN?: number;
    };
    if (poolSize !== undefined && poolMin !== undefined && poolMin > poolSize)
      throw new ConfigError(service, [`DATABASE_POOL_MIN must be at most DATABASE_POOL_SIZE (${poolSize}), not ${poolMin}`]);
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0]);
    const message = input[key] === undefined ? "is required but not set" : issue.message;
    return `${key} ${message}`;
  });
  throw new ConfigError(service, problems);
}
