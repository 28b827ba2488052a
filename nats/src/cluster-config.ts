import fs from "node:fs";
import path from "node:path";

/**
 * The production overlay's nats.conf: the three-node JetStream cluster that ships. Local and test
 * clusters run this very file, rendered for loopback, so that what is tested is what ships.
 */
export const shippedClusterConfig = path.join(__dirname, "..", "..", "infra", "k8s", "overlays", "prod", "nats.conf");

/** Where one node of a loopback cluster listens and keeps its store. */
export interface LoopbackNode {
  /** Client port (the pod's 4222). */
  port: number;
  /** Route port between the nodes (the pod's 6222). */
  clusterPort: number;
  /** Monitoring port (the pod's 8222): /jsz tells who leads. */
  httpPort: number;
  storeDir: string;
  /** Where nats-server writes its pid (the pod's /var/run/nats). */
  pidFile: string;
}

/**
 * The settings a loopback cluster must change, by their path in the file ("block.key"): the
 * addresses, the routes and the file locations. Everything else, including blocks this renderer
 * knows nothing of (authorization, accounts, TLS…), is carried over line for line.
 */
export const substitutedSettings = ["listen", "http", "pid_file", "jetstream.store_dir", "cluster.listen", "cluster.routes"] as const;
type Substituted = (typeof substitutedSettings)[number];

function valuesFor(node: LoopbackNode, peers: LoopbackNode[]): Record<Substituted, string | string[]> {
  return {
    listen: `127.0.0.1:${node.port}`,
    http: `127.0.0.1:${node.httpPort}`,
    pid_file: JSON.stringify(node.pidFile),
    "jetstream.store_dir": JSON.stringify(node.storeDir),
    "cluster.listen": `127.0.0.1:${node.clusterPort}`,
    "cluster.routes": peers.map((p) => `nats://127.0.0.1:${p.clusterPort}`),
  };
}

/** A line without its comment and quoted strings, so that braces inside them are not counted. */
const code = (line: string) => line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""').replace(/(#|\/\/).*$/, "");

/**
 * Renders the shipped configuration for one node of a cluster on loopback. Fails when a setting it
 * must substitute is missing from the file, so that a change to the shipped file cannot silently
 * leave a local cluster on the pod's addresses.
 */
export function renderClusterConfig(shipped: string, node: LoopbackNode, peers: LoopbackNode[]): string {
  const values = valuesFor(node, peers);
  const seen = new Set<string>();
  const out: string[] = [];
  const lines = shipped.split("\n");
  // the path of named blocks around the current line; anonymous maps in arrays count as ""
  const stack: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const body = code(line);
    const kv = /^(\s*)([A-Za-z_][\w-]*)(\s*[:=]\s*|\s+)(.*)$/.exec(body);
    const where = [...stack.filter(Boolean), kv?.[2]].join(".");
    const named = stack.every(Boolean); // not inside an array or an anonymous map
    if (kv && named && (substitutedSettings as readonly string[]).includes(where) && !kv[4].trimStart().startsWith("{")) {
      const [, indent, key, sep] = kv;
      const value = values[where as Substituted];
      seen.add(where);
      if (Array.isArray(value)) {
        // an array may span lines: skip to its closing bracket, then write it in the same layout
        let depth = 0;
        let j = i;
        for (; j < lines.length; j++) {
          for (const ch of code(lines[j])) depth += ch === "[" ? 1 : ch === "]" ? -1 : 0;
          if (depth <= 0) break;
        }
        const inner =
          lines
            .slice(i + 1, j)
            .find((l) => code(l).trim())
            ?.match(/^\s*/)?.[0] ?? `${indent}  `;
        out.push(`${indent}${key}${sep}[`, ...value.map((v) => `${inner}${v}`), `${indent}]`);
        i = j;
      } else {
        out.push(`${indent}${key}${sep}${value}`);
      }
      continue;
    }
    out.push(line);
    // `key {` opens a named block; any other bracket (an array, a map inside one) is anonymous
    let first = true;
    for (const ch of body) {
      if (ch === "{" || ch === "[") {
        stack.push(first && ch === "{" && kv ? kv[2] : "");
        first = false;
      } else if (ch === "}" || ch === "]") stack.pop();
    }
  }
  const missing = substitutedSettings.filter((s) => !seen.has(s));
  if (missing.length > 0) throw new Error(`the cluster configuration has no ${missing.join(", ")}: cannot render it for loopback`);
  return out.join("\n");
}

export function readShippedClusterConfig(file = shippedClusterConfig): string {
  return fs.readFileSync(file, "utf8");
}
