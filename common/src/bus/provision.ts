import type { Logger } from "pino";
import { Bus } from "./bus";
import { durableConfig } from "./durables";
import { SessionRevocations } from "./revocations";
import { streamOf } from "../events/subjects";
import type { BusUser } from "./authorization";

/**
 * Everything the services use on JetStream, made by the admin user before they start: the
 * streams, the revoked-sessions bucket and each listener's durable pull consumer. The services'
 * own users may then only use them (see natsPermissions). Safe to run again: existing streams are
 * brought up to date, existing consumers are left as they are.
 */
export async function provisionJetStream(options: {
  url: string;
  user: string;
  password: string;
  /** Whose durable consumers to make: what each service's listeners consume. */
  services: Pick<BusUser, "service" | "listens">[];
  log: Logger;
  streamReplicas?: number;
}): Promise<void> {
  const bus = await Bus.connect({
    url: options.url,
    name: "provisioning",
    log: options.log,
    streamReplicas: options.streamReplicas,
    user: options.user,
    password: options.password,
    manageStreams: true,
  });
  try {
    const sessions = await SessionRevocations.open(bus, options.log, options.streamReplicas ?? 1);
    await sessions.close();
    for (const service of options.services) {
      for (const subject of service.listens) {
        const config = durableConfig(service.service, subject);
        try {
          await bus.jsm.consumers.info(streamOf(subject), config.durable_name!);
        } catch {
          await bus.jsm.consumers.add(streamOf(subject), config);
        }
      }
    }
  } finally {
    await bus.drain();
  }
}
