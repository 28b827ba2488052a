import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { connect } from "nats";
import { natsServerBinary, waitForPort } from "@ticketforge/nats";

export type NatsDecision =
  | { kind: "given"; url: string }
  | { kind: "found"; url: string }
  | { kind: "started"; url: string; stop: () => Promise<void> }
  | { kind: "missing"; message: string };

export const natsHelp =
  "TicketForge needs NATS with JetStream. Either set NATS_URL, run a server on 127.0.0.1:4222 " +
  "(nats-server -js), or install nats-server so it can be started for you:\n" +
  "  Debian/Ubuntu: sudo apt-get install nats-server\n" +
  "  macOS:         brew install nats-server\n" +
  "  Docker:        docker run -p 4222:4222 nats -js";

/** True when a JetStream-enabled server answers at url. */
export async function hasJetStream(url: string, timeout = 1_000): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout, maxReconnectAttempts: 0, reconnect: false });
    try {
      const jsm = await nc.jetstreamManager({ timeout });
      await jsm.getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/**
 * docs/design.md §6: NATS_URL if set; else a JetStream server already on 127.0.0.1:4222; else nats-server
 * from PATH with its store under the data dir; else a clear message.
 */
export async function resolveNats(options: {
  natsUrl?: string;
  dataDir: string;
  defaultUrl?: string;
  port?: number;
  binary?: string | null;
  log?: (line: string) => void;
}): Promise<NatsDecision> {
  if (options.natsUrl) return { kind: "given", url: options.natsUrl };
  const port = options.port ?? 4222;
  const url = options.defaultUrl ?? `nats://127.0.0.1:${port}`;
  if (await hasJetStream(url)) return { kind: "found", url };
  const bin = options.binary === undefined ? natsServerBinary() : options.binary;
  if (!bin) return { kind: "missing", message: natsHelp };
  const store = path.join(options.dataDir, "nats");
  fs.mkdirSync(store, { recursive: true });
  const child = spawn(bin, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output = (output + d).slice(-4_000)));
  child.stderr?.on("data", (d) => (output = (output + d).slice(-4_000)));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`nats-server exited (${code}): ${output}`))));
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 15_000), exited]);
  return {
    kind: "started",
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
