import fs from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import path from "node:path";
import type { ZodType } from "zod";
import { baseSettings, loadConfig } from "../../common/src/config";
import { testSessionKeys } from "../../common/src/testing/keys";
import {
  environment,
  find,
  ofKind,
  overlays,
  ownSecrets,
  podSpec,
  renderOverlay,
  readRepoFile,
  repoRoot,
  resolve,
  secretName,
  services,
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
  // a valid pair: the schemas check that the private key signs for the public one
  JWT_PUBLIC_KEY: testSessionKeys.publicKey,
  JWT_PRIVATE_KEY: testSessionKeys.privateKey,
  STRIPE_KEY: "sk_test_placeholder",
  NATS_PASSWORD: "placeholderNatsPassword0123",
  PASSES_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
  SMTP_URL: "smtp://placeholder:587",
};
const placeholderFor = (name: string) => placeholderSecrets[name] ?? "placeholder";

/**
 * Set for the NATS server's per-service authorization (a user per service, its password from the
 * service's own Secret); not every service's settings read them yet.
 */
const natsCredentials = ["NATS_USER", "NATS_PASSWORD"];

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
      // A variable only there to compose another ($(DATABASE_PASSWORD) in DATABASE_URL) is read by Kubernetes.
      const composing = new Set([...env.values()].flatMap((s) => (s.from === "value" ? s.refs : [])));
      const unknown = [...env.keys()].filter((key) => !(key in settings[service]) && !composing.has(key) && !natsCredentials.includes(key));
      expect(unknown).toEqual([]);
    });

    test("the configuration loads: every value set passes the service's own schema", () => {
      const values: Record<string, string> = {};
      for (const name of env.keys())
        values[name] = resolve(env, name, (n, s) => (s.from === "secret" ? placeholderFor(n) : undefined)) ?? "";
      expect(() => loadConfig(service, settings[service], values)).not.toThrow();
    });

    test("it uses the PostgreSQL Cluster with its own role and password, never the embedded database", () => {
      const url = resolve(env, "DATABASE_URL", (n, s) => (s.from === "secret" ? `<${s.name}/${s.key}>` : undefined));
      expect(url).toBe(`postgresql://${service}:<${ownSecrets(service).database}/password>@postgres-rw:5432/${service}`);
    });

    test("behind the gateway it trusts exactly one proxy hop for the client address", () => {
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
  /** Every Secret key the manifests read, by Secret: whether it may be absent. */
  const referenced = new Map<string, boolean>();
  const note = (secret: string, key: string, optional: boolean) => {
    const id = `${secret}/${key}`;
    referenced.set(id, (referenced.get(id) ?? true) && optional);
  };
  for (const w of [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet")]) {
    for (const c of podSpec(w).containers) {
      for (const source of environment(c, objects).values()) if (source.from === "secret") note(source.name, source.key, source.optional);
    }
  }
  for (const role of find(objects, "Cluster", "postgres").spec.managed.roles) {
    // kubernetes.io/basic-auth: the operator reads both.
    note(role.passwordSecret.name, "username", false);
    note(role.passwordSecret.name, "password", false);
  }
  const s3 = find(objects, "ObjectStore", "postgres-backups").spec.configuration.s3Credentials;
  for (const ref of Object.values<{ name: string; key: string }>(s3)) note(ref.name, ref.key, false);

  const readme = readRepoFile("infra/README.md");
  /** The keys a `kubectl create secret generic|tls <name>` command of the README gives, by Secret name. */
  function documented(): Set<string> {
    const found = new Set<string>();
    // A loop over the services creates one Secret per service ($service in its name and values).
    const loop = /for service in ([a-z ]+); do([\s\S]*?)\bdone\b/.exec(readme);
    const loopServices = loop ? loop[1].trim().split(/\s+/) : [];
    // Commands with their continuation lines joined.
    const lines = readme.replace(/\\\n/g, " ").split("\n");
    for (const line of lines) {
      const m = /kubectl\s+(?:-n\s+\S+\s+)?create secret generic\s+"?([^\s"]+)"?(.*)$/.exec(line);
      if (!m) continue;
      const [, name, rest] = m;
      const keys = [...rest.matchAll(/--from-literal=([A-Za-z0-9_]+)=/g)].map((k) => k[1]);
      const names = /\$\{?service\}?/.test(name) ? loopServices.map((s) => name.replace(/\$\{?service\}?/, s)) : [name];
      for (const n of names) for (const key of keys) found.add(`${n}/${key}`);
    }
    return found;
  }

  test("the loop creating each service's own Secrets names every service", () => {
    expect(/for service in ([a-z ]+); do/.exec(readme)?.[1].trim().split(/\s+/)).toEqual([...services]);
  });

  test("infra/README.md's `kubectl create secret` commands create every key the manifests read, and no other", () => {
    const docs = documented();
    const undocumented = [...referenced].filter(([id, optional]) => !optional && !docs.has(id)).map(([id]) => id);
    expect(undocumented).toEqual([]);
    expect([...docs].filter((id) => !referenced.has(id))).toEqual([]);
    const optional = [...referenced].filter(([, opt]) => opt).map(([id]) => id.split("/")[1]);
    for (const key of optional) expect([key, readme.includes(key)]).toEqual([key, true]);
  });

  test("each service's own Secrets are the ones the manifests give it", () => {
    for (const s of services) {
      const { database, nats } = ownSecrets(s);
      expect([s, referenced.has(`${database}/password`), referenced.has(`${nats}/password`)]).toEqual([s, true, true]);
    }
    expect(referenced.has(`${secretName}/JWT_PUBLIC_KEY`)).toBe(true);
  });

  test("only auth is given the private key that signs sessions", () => {
    const holders = [...ofKind(objects, "Deployment"), ...ofKind(objects, "StatefulSet"), ...ofKind(objects, "Job")]
      .filter((w) =>
        podSpec(w).containers.some((c: Parameters<typeof environment>[0]) =>
          [...environment(c, objects).entries()].some(
            ([name, s]) => name === "JWT_PRIVATE_KEY" || (s.from === "secret" && s.name === "auth-session-key"),
          ),
        ),
      )
      .map((w) => w.metadata.name);
    expect(holders).toEqual(["auth"]);
  });

  test("the README's example values are placeholders to replace, never usable secrets", () => {
    const literals = [...readme.matchAll(/--from-literal=([A-Za-z0-9_]+)=(.*?)\s*\\?$/gm)];
    expect(literals.length).toBeGreaterThan(0);
    for (const [, key, value] of literals) {
      // Generated on the spot ($(openssl …)), built from a variable set just before, or a user name.
      expect([key, /\$\(|\$\{?[A-Za-z_]+/.test(value)]).toEqual([key, true]);
    }
  });
});
