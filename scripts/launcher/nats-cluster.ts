import fs from "node:fs";
import path from "node:path";
import { createLogger, natsAdminUser, provisionJetStream, type BusUser } from "@ticketforge/common/stack";
import { natsServerBinary, planNatsCluster, waitForMetaLeader } from "@ticketforge/nats/servers";
import { natsHelp, type NatsDecision } from "./nats";
import { portAcceptsConnections, waitFor } from "./postgres";
import { Supervised } from "./processes";
import { isPortFree } from "./stack";

/** The local cluster's own ports, away from a single server on 4222: node i on 4251+i, routes 6251+i, monitoring 8251+i. */
export const clusterPorts = { client: 4251, cluster: 6251, http: 8251 };

/** NATS_PORT moves the cluster: node i's client port is NATS_PORT+i, its route and monitoring ports 2000 and 4000 above. */
export function clusterPortsFrom(natsPort: number | undefined): typeof clusterPorts {
  return natsPort ? { client: natsPort, cluster: natsPort + 2000, http: natsPort + 4000 } : clusterPorts;
}

/**
 * NATS_CLUSTER=3: a JetStream cluster on loopback running the production overlay's nats.conf,
 * accounts included (passwords generated for this run), its stores in DATA_DIR/nats-1…; the admin
 * provisions the streams at three replicas and every service's consumers, as in production. Each
 * node runs under the launcher's supervisor, as a StatefulSet's pod would: restarted after a crash,
 * stopped by its watchdog when the launcher dies.
 */
export async function resolveNatsCluster(options: {
  size: number;
  dataDir: string;
  users: BusUser[];
  binary?: string | null;
  /** Where the supervisor says that a node crashed and is restarted (each node's own log is DATA_DIR/nats-N.log). */
  out?: (line: string) => void;
  port?: number;
}): Promise<NatsDecision & { describe: string }> {
  const { size, dataDir } = options;
  const bin = options.binary === undefined ? natsServerBinary() : options.binary;
  if (!bin) return { kind: "missing", message: natsHelp, describe: "" };
  const basePorts = clusterPortsFrom(options.port);
  const all = Array.from({ length: size }, (_, i) => [basePorts.client + i, basePorts.cluster + i, basePorts.http + i]).flat();
  const taken = [];
  for (const p of all) if (!(await isPortFree(p))) taken.push(p);
  if (taken.length > 0) {
    return {
      kind: "missing",
      message: `NATS_CLUSTER=${size} needs ports ${taken.join(", ")}, which are in use. Stop what uses them, set NATS_PORT to move the cluster, or set NATS_URL.`,
      describe: "",
    };
  }
  const plan = await planNatsCluster({ size, dataDir, basePorts });
  const nodes = plan.nodes.map((node, i) => {
    const logFile = path.join(dataDir, `${node.name}.log`);
    return new Supervised(
      {
        name: node.name,
        command: bin,
        args: node.args,
        env: node.env,
        ready: () => portAcceptsConnections(node.port),
        server: { logFile },
      },
      options.out ?? ((line) => fs.appendFileSync(logFile, `${line}\n`)),
      5 + i,
    );
  });
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop(5_000)));
  };
  try {
    for (const n of nodes) n.start();
    const up = await waitFor(
      async () =>
        nodes.some((n) => n.crashes > 0) || (await Promise.all(plan.nodes.map((n) => portAcceptsConnections(n.port)))).every(Boolean),
      15_000,
      100,
    );
    const crashed = nodes.filter((n) => n.crashes > 0).map((n) => n.name);
    if (!up || crashed.length > 0)
      throw new Error(`the NATS cluster did not start (${crashed.join(", ") || "not listening in 15 s"}; logs: ${dataDir}/nats-N.log)`);
    await waitForMetaLeader(
      plan.nodes.map((n, i) => ({
        httpPort: n.httpPort,
        get running() {
          return nodes[i].running;
        },
      })),
    );
    await provisionJetStream({
      url: plan.url,
      user: natsAdminUser,
      password: plan.passwords[natsAdminUser],
      services: options.users,
      log: createLogger("nats", "warn"),
      streamReplicas: Math.min(3, size),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    kind: "started",
    url: plan.url,
    store: path.join(dataDir, "nats-1"),
    credentials: Object.fromEntries(options.users.map((u) => [u.service, { user: u.service, password: plan.passwords[u.service] }])),
    admin: { user: natsAdminUser, password: plan.passwords[natsAdminUser] },
    nodes,
    stop,
    describe: `NATS: started a ${size}-node JetStream cluster at ${plan.url} (the prod overlay's nats.conf, one user per service; stores in ${path.join(dataDir, "nats-1")}…)`,
  };
}
