import fs from "node:fs";
import path from "node:path";
import type { ServiceDefinition } from "@ticketforge/common";
import { manifest } from "../../services";

export const repoRoot = path.join(__dirname, "..", "..", "..");

/**
 * A service's definition, loaded through its package (`@ticketforge/<name>/service`, found from
 * its folder's package.json): the object its module exports with `listeners`.
 */
export function definitionOf(folder: string): ServiceDefinition {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, folder, "package.json"), "utf8")) as { name: string };
  const mod = require(`${pkg.name}/service`) as Record<string, unknown>;
  const definition = Object.values(mod).find(
    (v): v is ServiceDefinition => !!v && typeof v === "object" && Array.isArray((v as ServiceDefinition).listeners),
  );
  if (!definition) throw new Error(`${pkg.name}/service (${folder}/src/service.ts) exports no service definition with listeners`);
  return definition;
}

/** Every service's definition, in services.json's order. */
export const definitions = (): ServiceDefinition[] => manifest.services.map((s) => definitionOf(s.folder));
