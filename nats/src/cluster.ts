import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readShippedClusterConfig, renderClusterConfig, type LoopbackNode } from "./cluster-config";
import { freePorts, launchNatsServer, natsServerBinary, type NatsServer } from "./server";

/** One node of a loopback cluster: stop it (SIGKILL by default, like a crash) and start it again. */
export interface NatsNode extends NatsServer {
  name: string;
  configFile: string;
}

/**
 * A JetStream cluster on loopback running the production overlay's nats.conf (rendered for
 * loopback): what `npm start` with NATS_CLUSTER=3 and the failure tests run.
 */
export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated: what NATS_URL takes (the shipped file does not advertise peers). */
  url: string;
  /** Waits until the nodes that run agree on a JetStream meta leader; returns its name. */
  waitForLeader(timeoutMs?: number): Promise<string>;
  /** Stops every node; removes the stores unless they were given. */
  destroy(): Promise<void>;
  /**
   * The password of each user of the configuration's authorization block (user name → password):
   * generated here unless the environment given names it, as the Secrets do in the cluster.
   */
  passwords: Record<string, string>;
}

export interface ClusterOptions {
  size?: number;
  /** Stores go to `<dataDir>/nats-1`, `nats-2`…; a temporary directory (removed on destroy) when unset. */
  dataDir?: string;
  /** Client ports; free ones when unset. Route and monitoring ports are always free ones unless `basePorts` is given. */
  basePorts?: { client: number; cluster: number; http: number };
  /** The configuration to render (the shipped file by default). */
  config?: string;
  /** Environment of the nodes: values the configuration reads ($VAR), such as passwords. */
  env?: NodeJS.ProcessEnv;
}

/** One node of a planned cluster: what to run, and where it listens. */
export interface NatsNodePlan {
  name: string;
  configFile: string;
  /** nats-server's arguments. */
  args: string[];
  /** Its environment: the configuration's $VARIABLES (passwords, POD_NAME). */
  env: NodeJS.ProcessEnv;
  port: number;
  clusterPort: number;
  httpPort: number;
  storeDir: string;
  pidFile: string;
}

export interface NatsClusterPlan {
  bin: string;
  nodes: NatsNodePlan[];
  url: string;
  passwords: Record<string, string>;
  dataDir: string;
  /** True when the data directory is a temporary one of this plan's. */
  ownDir: boolean;
}

/**
 * Renders each node's configuration and stores, and says how to run each node, without running
 * any: `startNatsCluster` runs them for tests, the launcher runs them under its supervisor.
 */
export async function planNatsCluster(options: ClusterOptions = {}): Promise<NatsClusterPlan> {
  const bin = natsServerBinary();
  if (!bin) throw new Error("nats-server not found on PATH: install it (apt-get install nats-server, brew install nats-server)");
  const size = options.size ?? 3;
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tf-nats-cluster-"));
  const ports = options.basePorts
    ? Array.from({ length: size }, (_, i) => [options.basePorts!.client + i, options.basePorts!.cluster + i, options.basePorts!.http + i])
    : chunk(await freePorts(size * 3), 3);
  const layout: LoopbackNode[] = ports.map(([port, clusterPort, httpPort], i) => ({
    port,
    clusterPort,
    httpPort,
    storeDir: path.join(dataDir, `nats-${i + 1}`),
    pidFile: path.join(dataDir, `nats-${i + 1}.pid`),
  }));
  const shipped = options.config ?? readShippedClusterConfig();
  const env: Record<string, string | undefined> = { ...options.env };
  const passwords: Record<string, string> = {};
  for (const [, user, variable] of shipped.matchAll(/user:\s*"([^"]+)",\s*password:\s*\$(\w+)/g)) {
    // letters and digits starting with a letter: nats-server reads the variable as a bare word
    env[variable] ??= `p${randomBytes(18).toString("hex")}`;
    passwords[user] = env[variable]!;
  }
  const nodes = layout.map((node, i) => {
    const name = `nats-${i + 1}`;
    fs.mkdirSync(node.storeDir, { recursive: true });
    const configFile = path.join(dataDir, `${name}.conf`);
    fs.writeFileSync(configFile, renderClusterConfig(shipped, node, layout));
    // server_name comes from $POD_NAME, as in the StatefulSet
    return { ...node, name, configFile, args: ["-c", configFile], env: { ...process.env, ...env, POD_NAME: name } };
  });
  return { bin, nodes, url: nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(","), passwords, dataDir, ownDir };
}

/** Waits until the nodes that run (`running` is read at each try) agree on a JetStream meta leader; returns its name. */
export async function waitForMetaLeader(
  nodes: Array<{ httpPort: number; readonly running: boolean }>,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leaders = await Promise.all(
      nodes.map(async (n) => {
        if (!n.running) return undefined;
        try {
          const res = await fetch(`http://127.0.0.1:${n.httpPort}/jsz`, { signal: AbortSignal.timeout(1_000) });
          return ((await res.json()) as { meta_cluster?: { leader?: string } }).meta_cluster?.leader || "";
        } catch {
          return "";
        }
      }),
    );
    const running = leaders.filter((l) => l !== undefined);
    if (running.length > 0 && running[0] && running.every((l) => l === running[0])) return running[0];
    if (Date.now() > deadline) throw new Error(`no JetStream meta leader after ${timeoutMs} ms (nodes say ${JSON.stringify(leaders)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startNatsCluster(options: ClusterOptions = {}): Promise<NatsCluster> {
  const plan = await planNatsCluster(options);
  const children: Array<ChildProcess | undefined> = [];
  const nodes: NatsNode[] = plan.nodes.map((node, i) => {
    const start = async () => {
      children[i] = await launchNatsServer(plan.bin, node.args, node.port, node.env);
    };
    const stop = async ({ graceful = false } = {}) => {
      const c = children[i];
      children[i] = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
      c.kill(graceful ? "SIGTERM" : "SIGKILL");
      await gone;
    };
    return {
      name: node.name,
      configFile: node.configFile,
      url: `nats://127.0.0.1:${node.port}`,
      port: node.port,
      storeDir: node.storeDir,
      start,
      stop,
      destroy: stop,
      get running() {
        const c = children[i];
        return c !== undefined && c.exitCode === null && c.signalCode === null;
      },
    };
  });
  const onExit = () => children.forEach((c) => c?.kill("SIGKILL"));
  process.once("exit", onExit);

  const waitForLeader = (timeoutMs = 30_000) =>
    waitForMetaLeader(
      plan.nodes.map((n, i) => ({
        httpPort: n.httpPort,
        get running() {
          return nodes[i].running;
        },
      })),
      timeoutMs,
    );

  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.stop({ graceful: true })));
    process.removeListener("exit", onExit);
    if (plan.ownDir) fs.rmSync(plan.dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitForLeader();
  } catch (err) {
    await destroy();
    throw err;
  }
  return { nodes, url: plan.url, waitForLeader, destroy, passwords: plan.passwords };
}

function chunk<T>(xs: T[], n: number): T[][] {
  return Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));
}
