import fs from "node:fs";
import path from "node:path";
import type { ZodType } from "zod";
import { baseSettings, loadConfig } from "../../common/src/config";
import {
  environment,
  find,
  ofKind,
  overlays,
  podSpec,
  renderOverlay,
  readRepoFile,
  repoRoot,
  secretName,
  services,
  type EnvSource,
  type Service,
} from "./support/k8s";

const defaultPorts: Record<Service, number> = { auth: 3001, tickets: 3002, orders: 3003, payments: 3004, expiration: 3005 };

/**
 * The settings a service reads: its own `src/config.ts` (base settings plus its own), or the
 * base settings from common while a service has no config.ts of its own.
 */
function settingsOf(service: Service): Record<string, ZodType> {
  const file = path.join(repoRoot, service, "src/config.ts");
  if (fs.existsSync(file)) {
     
    const mod = require(file) as { settings?: Record<string, ZodType> };
    if (!mod.settings) throw new Error(`${service}/src/config.ts does not export settings`);
    return mod.settings;
  }
  return baseSettings(service, defaultPorts[service]);
}

const required = (settings: Record<string, ZodType>) =>
  Object.entries(settings)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([key]) => key);

/** Stand-ins for the Secret's values: valid for the schemas, never real. */
const placeholderSecrets: Record<string, string> = {
  JWT_KEY: "placeholder-jwt-key-of-32-chars!",
  STRIPE_KEY: "sk_test_placeholder",
};
const placeholderFor = (name: string, source: Extract<EnvSource, { from: "secret" }>) =>
  placeholderSecrets[name] ?? (/DATABASE_URL$/.test(source.key) ? "postgresql://user:password@postgres:5432/db" : "placeholder");

const settings = Object.fromEntries(services.map((s) => [s, settingsOf(s)])) as Record<Service, Record<string, ZodType>>;
/** Only a service's own settings can tell a misspelt variable from one of its specific ones. */
const hasOwnSettings = (service: Service) => fs.existsSync(path.join(repoRoot, service, "src/config.ts"));

describe.each(overlays)("overlays/%s: service environment", (overlay) => {
  const objects = renderOverlay(overlay);

  describe.each(services)("%s", (service) => {
    const container = podSpec(find(objects, "Deployment", service)).containers[0];
    const env = environment(container, objects);

    test("every variable required at start-up is set", () => {
      const missing = required(settings[service]).filter((key) => !env.has(key));
      expect(missing).toEqual([]);
    });

    (hasOwnSettings(service) ? test : test.skip)("every variable set is one the service reads (no misspelt or stale setting)", () => {
      const unknown = [...env.keys()].filter((key) => !(key in settings[service]));
      expect(unknown).toEqual([]);
    });

    test("the configuration loads: every value set passes the service's own schema", () => {
      const values: Record<string, string> = {};
      for (const [name, source] of env) {
        if (source.from === "secret") values[name] = placeholderFor(name, source);
        else if (source.from === "configMap" || source.from === "value") values[name] = source.value ?? "";
      }
      expect(() => loadConfig(service, settings[service], values)).not.toThrow();
    });

    test("it uses PostgreSQL, never the embedded database", () => {
      expect(env.get("DATABASE_URL")).toEqual({ from: "secret", name: secretName, key: `${service.toUpperCase()}_DATABASE_URL`, optional: false });
    });

    test("behind ingress-nginx it trusts exactly one proxy hop for the client address", () => {
      const trust = env.get("TRUST_PROXY");
      expect(trust?.from === "configMap" ? trust.value : undefined).toBe("1");
    });
  });

  test("the shared ConfigMap holds only settings every service reads", () => {
    const shared = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config-"))!;
    for (const key of Object.keys(shared.data)) {
      const notRead = services.filter((s) => !(key in settings[s]));
      expect([key, notRead]).toEqual([key, []]);
    }
  });
});

describe("secrets", () => {
  const objects = renderOverlay("prod");
  const referenced = new Map<string, boolean>();
  for (const w of [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet")]) {
    for (const c of podSpec(w).containers) {
      for (const source of environment(c, objects).values()) {
        if (source.from === "secret") referenced.set(source.key, (referenced.get(source.key) ?? true) && source.optional);
      }
    }
  }

  test("infra/README.md's `kubectl create secret` names every key the manifests read", () => {
    const readme = readRepoFile("infra/README.md");
    const command = /kubectl\s+(?:-n\s+\S+\s+)?create secret generic ticketforge-secrets[\s\S]*?(?:\n\s*\n|```)/.exec(readme)?.[0] ?? "";
    const documented = new Set([...command.matchAll(/--from-literal=([A-Z0-9_]+)=/g)].map((m) => m[1]));
    const undocumented = [...referenced].filter(([key, optional]) => !optional && !documented.has(key)).map(([key]) => key);
    expect(undocumented).toEqual([]);
    expect([...documented].filter((key) => !referenced.has(key))).toEqual([]);
    const optional = [...referenced].filter(([, opt]) => opt).map(([key]) => key);
    for (const key of optional) expect([key, readme.includes(key)]).toEqual([key, true]);
  });

  test("the README's example values are placeholders to replace, never usable secrets", () => {
    const readme = readRepoFile("infra/README.md");
    const literals = [...readme.matchAll(/--from-literal=([A-Z0-9_]+)=(.*?)\s*\\?$/gm)];
    expect(literals.length).toBeGreaterThan(0);
    for (const [, key, value] of literals) {
      // Generated on the spot ($(openssl …)) or built from a variable set just before.
      expect([key, /\$\(|\$\{?[A-Z_]+/.test(value)]).toEqual([key, true]);
    }
  });
});
