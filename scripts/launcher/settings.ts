import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { defaultPorts, type Ports } from "./stack";

/** A random secret (hex) generated on the first run and kept under the data directory. */
export function secretFor(dataDir: string, name: string, bytes = 32): string {
  const file = path.join(dataDir, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(bytes).toString("hex"), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

/**
 * The address the stack's processes listen on (services, gateway, web app): loopback unless HOST
 * says otherwise, so that a neighbour on the network reaches none of them, nor a service around
 * the gateway. NATS and PostgreSQL listen on 127.0.0.1 always.
 */
export function listenHost(env: NodeJS.ProcessEnv): string {
  return env.HOST || "127.0.0.1";
}

/**
 * PASSES_SIGNING_KEY from the environment, or an Ed25519 key generated on the first run and kept
 * in .data/passes-signing-key (PKCS#8, base64 of the DER): door codes stay valid across restarts.
 */
export function passesSigningKeyFor(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.PASSES_SIGNING_KEY) return env.PASSES_SIGNING_KEY;
  const file = path.join(dataDir, "passes-signing-key");
  if (!fs.existsSync(file)) {
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    fs.writeFileSync(file, privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}

/**
 * The local mail catcher (maildev) `npm start` runs unless SMTP_URL names a mail server, or
 * MAILDEV=false: its SMTP and web ports (MAILDEV_SMTP_PORT, MAILDEV_WEB_PORT) and its own
 * directory under the data directory.
 */
export function mailCatcherFrom(env: NodeJS.ProcessEnv, dataDir: string): { smtpPort: number; webPort: number; dir: string } | undefined {
  if (env.SMTP_URL || env.MAILDEV === "false") return undefined;
  const port = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${key} must be a port number (got "${raw}")`);
    return n;
  };
  return { smtpPort: port("MAILDEV_SMTP_PORT", 1025), webPort: port("MAILDEV_WEB_PORT", 1080), dir: path.join(dataDir, "maildev") };
}

export function portsFrom(env: NodeJS.ProcessEnv): Ports {
  const ports = { ...defaultPorts };
  for (const key of Object.keys(ports) as Array<keyof Ports>) {
    const raw = env[`${key.toUpperCase()}_PORT`];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${key.toUpperCase()}_PORT must be a port number (got "${raw}")`);
    ports[key] = n;
  }
  return ports;
}

function wholeNumber(env: NodeJS.ProcessEnv, key: string, allowed: number[], meaning: string): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!allowed.includes(n)) throw new Error(`${key} must be ${meaning} (got "${raw}")`);
  return n;
}

/** REPLICAS: processes of every service (1 to 9; replica i listens on the service's port + 100·i). */
export function replicasFrom(env: NodeJS.ProcessEnv): number {
  return wholeNumber(env, "REPLICAS", [1, 2, 3, 4, 5, 6, 7, 8, 9], "a whole number from 1 to 9");
}

/** NATS_CLUSTER: nodes of the local JetStream cluster (1: one server; 3 or 5: a cluster that keeps a quorum when one dies). */
export function natsClusterFrom(env: NodeJS.ProcessEnv): number {
  return wholeNumber(env, "NATS_CLUSTER", [1, 3, 5], "1, 3 or 5");
}
