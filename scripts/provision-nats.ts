/**
 * Provisions JetStream for a server with accounts (infra/k8s nats.conf): the streams, the
 * revoked-sessions bucket and every listener's durable consumer, as the admin user, before the
 * services start (their own users may not create them). Safe to run again.
 *   NATS_URL=nats://nats:4222 NATS_USER=ticketforge-admin NATS_PASSWORD=… npm run provision-nats
 * npm start does this by itself for the nats-server it starts.
 */
import { createLogger, natsAdminUser, provisionJetStream } from "@ticketforge/common";
import { busUsers } from "./launcher/bus-users";

async function main() {
  const password = process.env.NATS_PASSWORD;
  if (!password) {
    console.error("NATS_PASSWORD (the admin user's) is required");
    process.exit(78);
  }
  await provisionJetStream({
    url: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    user: process.env.NATS_USER ?? natsAdminUser,
    password,
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
