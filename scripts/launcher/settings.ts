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

/** JWT_KEY from the environment, or one generated on the first run and kept under .data/. */
export function jwtKeyFor(dataDir: string, env: NodeJS.ProcessEnv): string {
  return env.JWT_KEY || secretFor(dataDir, "jwt-key");
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
