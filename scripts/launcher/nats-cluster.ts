import path from "node:path";
import { natsServerBinary, startNatsCluster } from "@ticketforge/nats";
import { hasJetStream, natsHelp, type NatsDecision } from "./nats";
import { isPortFree } from "./stack";

/** The local cluster's own ports, away from a single server on 4222: node i on 4251+i, routes 6251+i, monitoring 8251+i. */
export const clusterPorts = { client: 4251, cluster: 6251, http: 8251 };

/**
 * NATS_CLUSTER=3: a JetStream cluster on loopback running the production overlay's nats.conf, its
 * stores in DATA_DIR/nats-1…; or the one a killed launcher left running on those ports.
 */
export async function resolveNatsCluster(options: { size: number; dataDir: string; binary?: string | null }): Promise<NatsDecision & { describe: string }> {
  const { size, dataDir } = options;
  const ports = Array.from({ length: size }, (_, i) => clusterPorts.client + i);
  const url = ports.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const answering = await Promise.all(ports.map((p) => hasJetStream(`nats://127.0.0.1:${p}`)));
  if (answering.every(Boolean)) return { kind: "found", url, describe: `NATS: using the ${size}-node JetStream cluster already running at ${url}` };
  const bin = options.binary === undefined ? natsServerBinary() : options.binary;
  if (!bin) return { kind: "missing", message: natsHelp, describe: "" };
  const all = Array.from({ length: size }, (_, i) => [clusterPorts.client + i, clusterPorts.cluster + i, clusterPorts.http + i]).flat();
  const taken = [];
  for (const p of all) if (!(await isPortFree(p))) taken.push(p);
  if (taken.length > 0) {
    return { kind: "missing", message: `NATS_CLUSTER=${size} needs ports ${taken.join(", ")}, which are in use. Stop what uses them, or set NATS_URL.`, describe: "" };
  }
  const cluster = await startNatsCluster({ size, dataDir, basePorts: clusterPorts });
  return {
    kind: "started",
    url: cluster.url,
    stop: () => cluster.destroy(),
    describe: `NATS: started a ${size}-node JetStream cluster at ${cluster.url} (the prod overlay's nats.conf; stores in ${path.join(dataDir, "nats-1")}…)`,
  };
}
