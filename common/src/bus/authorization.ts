import { randomBytes } from "node:crypto";
import { deadLetterStream, streamOf, type Subject } from "../events/subjects";
import { durableName } from "./durables";
import { revokedSessionsBucket } from "./revocations";
import { inboxPrefixOf } from "./bus";

/** The user that provisions JetStream (streams, the session bucket, every durable consumer) and runs operator tools. */
export const natsAdminUser = "ticketforge-admin";

/** A service's NATS user, as services.json at the repository root describes it. */
export interface BusUser {
  service: string;
  /** The subjects its outbox publishes: the only event subjects it may publish. */
  publishes: readonly Subject[];
  /** The subjects its listeners consume. */
  listens: readonly Subject[];
  /** The key-value buckets it writes to (auth: the revoked sessions); every service may watch them. */
  kvWrites?: readonly string[];
  /**
   * Letters for an operator that are no events, parked as deadletter.<service>.<notice> (payments:
   * a refund that keeps failing); replay leaves them.
   */
  notices?: readonly string[];
}

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

const kvStream = `KV_${revokedSessionsBucket}`;

/**
 * What one service may do on NATS, and nothing more:
 * - publish the events it declares (so a forged payment.completed from the tickets service is
 *   refused by the server), and dead letters under its own name for the subjects it consumes
 *   (deadletter.<self>.<subject>) or the operator notices it raises: the name in a letter's subject
 *   is the only one the operator tools believe, and replay redelivers the stored original, so a
 *   letter is never a way to publish another service's event;
 * - read the JetStream API's answers and its pull deliveries on its own inboxes only
 *   (`_INBOX_<service>.>`, the connection's inboxPrefix): as tickets, another service's pull
 *   deliveries (`_INBOX.>`) are out of reach; look streams up, and pull from, ack and look up
 *   its own durable consumers, which are provisioned beforehand by the admin user. It may not
 *   create or change streams (a stream's `republish` could re-publish onto any subject) nor create
 *   its durables (a consumer's deliver subject is free: only the consumer's *name and filter* can
 *   be held to by subject permissions);
 * - watch the revoked-sessions bucket (an ordered consumer on its stream, created under the
 *   bucket's own filter), and write to the buckets it names in `kvWrites` (auth: the revoked
 *   sessions). It may not delete consumers there (a watch never does; another service's watch
 *   would be the only thing to delete). What nats-server 2.9 cannot hold to is the deliver subject
 *   inside a consumer's configuration: a service could still point a consumer of that bucket at
 *   another subject; what it would deliver are revocation entries, which no listener takes for an
 *   event (docs/threat-model.md).
 */
export function natsPermissions(user: BusUser): NatsPermissions {
  const letters = `${deadLetterStream.subjects[0].replace(">", "")}${user.service}`;
  const publish = [
    ...user.publishes,
    ...user.listens.map((subject) => `${letters}.${subject}`),
    ...(user.notices ?? []).map((notice) => `${letters}.${notice}`),
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.*",
  ];
  for (const subject of user.listens) {
    const stream = streamOf(subject);
    const durable = durableName(user.service, subject);
    publish.push(
      `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
      `$JS.ACK.${stream}.${durable}.>`,
    );
  }
  publish.push(
    // the watch's first consumer (name and filter in the subject), and the one its reset makes
    `$JS.API.CONSUMER.CREATE.${kvStream}.*.$KV.${revokedSessionsBucket}.>`,
    `$JS.API.CONSUMER.CREATE.${kvStream}`,
    `$JS.FC.${kvStream}.>`,
  );
  for (const bucket of user.kvWrites ?? []) publish.push(`$KV.${bucket}.>`);
  return { publish, subscribe: [`${inboxPrefixOf(user.service)}.>`] };
}

/**
 * The `authorization` block of a nats-server configuration: one user per service with the
 * permissions above, plus the admin user. `password(user)` is the conf text of each password: a
 * quoted literal, or `$VARIABLE` for one taken from the server's environment.
 */
export function natsAuthorizationBlock(users: BusUser[], password: (user: string) => string): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (items: string[]) => `[${items.map(q).join(", ")}]`;
  const lines = [
    "authorization {",
    "  users = [",
    `    # provisions streams and consumers; operator tools (npm run dead-letters)`,
    `    { user: ${q(natsAdminUser)}, password: ${password(natsAdminUser)} }`,
  ];
  for (const u of users) {
    const p = natsPermissions(u);
    lines.push(
      `    { user: ${q(u.service)}, password: ${password(u.service)}, permissions: {`,
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      `    } }`,
    );
  }
  lines.push("  ]", "}");
  return lines.join("\n");
}

/**
 * A password nats-server can read from its environment, where the value is parsed as a
 * configuration token: letters and digits, starting with a letter (as NATS_PASSWORD requires).
 */
export function newNatsPassword(): string {
  return `p${randomBytes(24).toString("hex")}`;
}

/** The environment variable a nats-server reads one user's password from. */
export const natsPasswordVariable = (user: string) => `NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
