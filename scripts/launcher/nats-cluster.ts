import path from "node:path";
import { createLogger, natsAdminUser, provisionJetStream, type BusUser } from "@ticketforge/common";
import { natsServerBinary, startNatsCluster } from "@ticketforge/nats";
import { natsHelp, type NatsDecision } from "./nats";
import { isPortFree } from "./stack";

/** The local cluster's own ports, away from a single server on 4222: node i on 4251+i, routes 6251+i, monitoring 8251+i. */
export const clusterPorts = { client: 4251, cluster: 6251, http: 8251 };

/**
 * NATS_CLUSTER=3: a JetStream cluster on loopback running the production overlay's nats.conf,
 * accounts included (passwords generated for this run), its stores in DATA_DIR/nats-1…; the admin
 * provisions the streams at three replicas and every service's consumers, as in production.
 */
export async function resolveNatsCluster(options: {
  size: number;
  dataDir: string;
  users: BusUser[];
  binary?: string | null;
}): Promise<NatsDecision & { describe: string }> {
  const { size, dataDir } = options;
  const bin = options.binary === undefined ? natsServerBinary() : options.binary;
  if (!bin) return { kind: "missing", message: natsHelp, describe: "" };
  const all = Array.from({ length: size }, (_, i) => [clusterPorts.client + i, clusterPorts.cluster + i, clusterPorts.http + i]).flat();
  const taken = [];
  for (const p of all) if (!(await isPortFree(p))) taken.push(p);
  if (taken.length > 0) {
    return { kind: "missing", message: `NATS_CLUSTER=${size} needs ports ${taken.join(", ")}, which are in use. Stop what uses them, or set NATS_URL.`, describe: "" };
  }
  const cluster = await startNatsCluster({ size, dataDir, basePorts: clusterPorts });
  try {
    await provisionJetStream({
      url: cluster.url,
      user: natsAdminUser,
      password: cluster.passwords[natsAdminUser],
      services: options.users,
      log: createLogger("nats", "warn"),
      streamReplicas: Math.min(3, size),
    });
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return {
    kind: "started",
    url: cluster.url,
    store: path.join(dataDir, "nats-1"),
    credentials: Object.fromEntries(options.users.map((u) => [u.service, { user: u.service, password: cluster.passwords[u.service] }])),
    admin: { user: natsAdminUser, password: cluster.passwords[natsAdminUser] },
    stop: () => cluster.destroy(),
    describe: `NATS: started a ${size}-node JetStream cluster at ${cluster.url} (the prod overlay's nats.conf, one user per service; stores in ${path.join(dataDir, "nats-1")}…)`,
  };
}
