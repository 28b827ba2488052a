import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig } from "nats";
import type { Subject } from "../events/subjects";

/** The durable pull consumer that every replica of `service` shares for `subject`. */
export function durableName(service: string, subject: Subject): string {
  return `${service}-${subject.replace(/\./g, "-")}`;
}

/** The durable pull consumer of one (service, subject): the listener creates it, or the admin provisions it. */
export function durableConfig(service: string, subject: Subject): Partial<ConsumerConfig> {
  return {
    durable_name: durableName(service, subject),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
    ack_wait: nanos(30_000),
    max_ack_pending: 1_000,
  };
}
