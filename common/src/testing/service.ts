import type { Database } from "../db/database";
import { loadConfig, type ConfigOf, type Settings } from "../config";
import { startService, type BaseConfig, type RunningService, type ServiceDefinition, type StartOverrides } from "../service";
import { openTestDatabase, testConfig, testSessionKeys } from "./index";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface TestService<C extends BaseConfig = BaseConfig, DB = any, X extends object = any> extends RunningService<C, DB, X> {
  /** Stops the service and drops its database (unless the database was given). */
  close(): Promise<void>;
}

/**
 * Starts a service in this process against a real nats-server and a database of its own on the
 * test run's PostgreSQL server, on a free port.
 */
export async function startTestService<S extends Settings, DB, X extends object = object>(
  def: ServiceDefinition<S, DB, X>,
  natsUrl: string,
  options: StartOverrides & { config?: Partial<ConfigOf<S>>; database?: Database; poolSize?: number } = {},
): Promise<TestService<ConfigOf<S> & BaseConfig, DB, X>> {
  const { config: extra, poolSize, ...overrides } = options;
  const database = options.database ?? (await openTestDatabase(def, { poolSize }));
  // the service's own settings take their defaults, as when started with an empty environment
  const defaults = loadConfig(def.name, def.settings, {
    NODE_ENV: "test",
    JWT_PUBLIC_KEY: testSessionKeys.publicKey,
    JWT_PRIVATE_KEY: testSessionKeys.privateKey,
    NATS_URL: natsUrl,
    DATABASE_URL: database.url,
  });
  // DATABASE_URL names the database the service is given: what its own clients of it connect to
  const config = { ...defaults, ...testConfig(natsUrl, { DATABASE_URL: database.url, ...extra }) } as unknown as ConfigOf<S> & BaseConfig;
  const running = await startService(def, config, { retryBaseMs: 100, sweepIntervalMs: 250, sweepAfterMs: 250, ...overrides, database });
  return {
    ...running,
    close: async () => {
      await running.stop();
      if (!options.database) await database.close();
    },
  };
}
