/**
 * Provisions JetStream for a server with accounts (infra/k8s nats.conf): the streams, the
 * revoked-sessions bucket and every listener's durable consumer, as the admin user, before the
 * services start (their own users may not create them). Safe to run again.
 *   NATS_URL=nats://nats:4222 NATS_USER=ticketforge-admin NATS_PASSWORD=… npm run provision-nats
 * Without NATS_URL it provisions the stack running on DATA_DIR, with that stack's admin login
 * (npm start does this by itself for the nats-server it starts; this re-runs it).
 */
import { createLogger, natsAdminUser, provisionJetStream } from "@ticketforge/common";
import { busUsers } from "./launcher/bus-users";
import { adminNatsServer } from "./launcher/running-stack";

async function main() {
  const server = adminNatsServer(process.env);
  if ("missing" in server) {
    console.error(server.missing);
    process.exit(1);
  }
  if (!server.password) {
    console.error(`NATS_PASSWORD (the admin user's) is required for ${server.url}`);
    process.exit(78);
  }
  console.error(`NATS at ${server.url} (${server.from})`);
  await provisionJetStream({
    url: server.url,
    user: server.user ?? natsAdminUser,
    password: server.password,
    services: busUsers,
    streamReplicas: Number(process.env.NATS_STREAM_REPLICAS ?? 1),
    log: createLogger("provision-nats", "info"),
  });
  console.log(`provisioned JetStream for ${busUsers.map((u) => u.service).join(", ")}`);
}

void main().catch((err) => {
  console.error(`provisioning failed: ${(err as Error).message}`);
  process.exit(1);
});
