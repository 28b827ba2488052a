import type { BaseConfig, ConfigOf, Settings, ServiceDefinition, StartOverrides } from "@ticketforge/common";
import { startTestService, type TestService } from "@ticketforge/common/testing";
import { startNatsServer, type NatsServer } from "./server";
import { EventRecorder } from "./wait";

export interface ServiceUnderTest<C extends BaseConfig = BaseConfig> {
  /** The throw-away nats-server of this test file. */
  readonly nats: NatsServer;
  /** The service, in this process, on its own database and a free port. */
  readonly service: TestService<C>;
  /** Every event the streams hold, read as they come. */
  readonly recorder: EventRecorder;
}

/**
 * The set-up of a service's test file, once: before its tests a throw-away nats-server, the
 * service on a database of its own and an event recorder; after them, all of it stopped and
 * dropped. Call it at the top of the file; read its fields inside tests and hooks.
 */
export function serviceUnderTest<S extends Settings>(
  def: ServiceDefinition<S>,
  options: StartOverrides & { config?: Partial<ConfigOf<S>>; poolSize?: number } = {},
): ServiceUnderTest<ConfigOf<S> & BaseConfig> {
  let nats: NatsServer | undefined;
  let service: TestService<ConfigOf<S> & BaseConfig> | undefined;
  let recorder: EventRecorder | undefined;
  beforeAll(async () => {
    nats = await startNatsServer();
    service = await startTestService(def, nats.url, options);
    recorder = await EventRecorder.start(nats.url);
  });
  afterAll(async () => {
    await recorder?.close();
    await service?.close();
    await nats?.destroy();
  });
  const ready = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`${what} is not started yet: use it inside tests and hooks, not at the top of the file`);
    return value;
  };
  return {
    get nats() {
      return ready("nats", nats);
    },
    get service() {
      return ready("service", service);
    },
    get recorder() {
      return ready("recorder", recorder);
    },
  };
}
