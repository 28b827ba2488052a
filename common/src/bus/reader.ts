import { AckPolicy, DeliverPolicy, nanos, type Consumer } from "nats";
import type { Bus } from "./bus";

/**
 * A throw-away consumer that reads a stream (filtered by one subject) from the start without
 * acknowledging anything: for tools that look at stored messages. The server removes it after
 * a minute of inactivity. (Ordered consumers send filter_subjects, which nats-server 2.9 rejects.)
 */
export async function openReader(bus: Bus, stream: string, filterSubject: string): Promise<Consumer> {
  const info = await bus.jsm.consumers.add(stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    filter_subject: filterSubject,
    inactive_threshold: nanos(60_000),
    mem_storage: true,
  });
  return bus.js.consumers.get(stream, info.name);
}
