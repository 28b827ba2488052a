import type { Logger } from "pino";
import { Bus } from "./bus";
import { durableConfig, durableName } from "./durables";
import { SessionRevocations } from "./revocations";
import { streamOf, streams, subjects } from "../events/subjects";
import type { BusUser } from "./authorization";

/**
 * Everything the services use on JetStream, made by the admin user before they start: the
 * streams, the revoked-sessions bucket and each listener's durable pull consumer. The services'
 * own users may then only use them (see natsPermissions). Safe to run again: existing streams are
 * brought up to date, existing consumers are left as they are, and the durable consumer of a
 * subject a service no longer listens to is removed (its backlog would grow for ever, and show
 * as lag in the autoscaler and in npm run status).
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
    for (const { stream, durable } of await staleDurables(bus, options.services)) {
      await bus.jsm.consumers.delete(stream, durable);
      options.log.info({ stream, durable }, "removed a durable consumer whose service no longer listens to its subject");
    }
  } finally {
    await bus.drain();
  }
}

/**
 * Durable consumers named as one of `services` would name its listener of a subject it does not
 * listen to (any more). Only exact names are matched: other consumers (tools', a bench's) stay.
 */
async function staleDurables(
  bus: Bus,
  services: Pick<BusUser, "service" | "listens">[],
): Promise<Array<{ stream: string; durable: string }>> {
  const stale = new Map<string, string>();
  for (const { service, listens } of services) {
    for (const subject of subjects) {
      if (!listens.includes(subject)) stale.set(durableName(service, subject), streamOf(subject));
    }
  }
  const found: Array<{ stream: string; durable: string }> = [];
  for (const { name: stream } of streams) {
    for await (const consumer of bus.jsm.consumers.list(stream)) {
      if (stale.get(consumer.name) === stream) found.push({ stream, durable: consumer.name });
    }
  }
  return found;
}
