import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { apps as manifestApps, services as manifestServices } from "../../../scripts/services";

export const repoRoot = path.resolve(__dirname, "../../..");
export const k8sDir = path.join(repoRoot, "infra/k8s");
/** The overlays `skaffold dev` and `skaffold run -p prod` deploy: routing by the Gateway API. */
export const overlays = ["dev", "prod"] as const;
export type Overlay = (typeof overlays)[number];
/** The same behind ingress-nginx (components/ingress-nginx), for clusters that still run it. */
export const ingressNginxOverlays = ["dev-ingress-nginx", "prod-ingress-nginx"] as const;
export type AnyOverlay = Overlay | (typeof ingressNginxOverlays)[number];

/** The backend services, from services.json (each a workspace with src/config.ts and a Deployment of its name). */
export const services = manifestServices;
export type Service = string;
/** Everything built into an image from this repository: the services and the web app. */
export const apps = manifestApps;

/** The Secret of the secrets every service shares (created on the cluster, never committed). */
export const secretName = "ticketforge-secrets";
/** A service's own credentials, one Secret each (created on the cluster): only it reads them. */
export const ownSecrets = (service: string) => ({
  database: `postgres-${service}`,
  nats: `nats-${service}`,
  // the private key that signs sessions: auth's alone
  ...(service === "auth" ? { sessionKey: "auth-session-key" } : {}),
});

// Loose shapes: the schema check (validate-k8s.mjs) is what proves the objects well-formed.

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };
export type Container = { name: string; image: string; env?: any[]; envFrom?: any[]; [k: string]: any };

const rendered = new Map<string, K8sObject[]>();

/** `kubectl kustomize <dir>` (offline, ~0.1 s), parsed; cached per directory for the test run. */
export function render(dir: string): K8sObject[] {
  const abs = path.resolve(k8sDir, dir);
  if (!rendered.has(abs)) {
    let out: string;
    try {
      out = execFileSync("kubectl", ["kustomize", abs], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      const e = err as { code?: string; stderr?: string; message: string };
      if (e.code === "ENOENT") throw new Error("kubectl is not on PATH: the manifest tests render with `kubectl kustomize`");
      throw new Error(`kubectl kustomize ${path.relative(repoRoot, abs)} failed:\n${e.stderr ?? e.message}`);
    }
    const objects = YAML.parseAllDocuments(out)
      .map((d) => d.toJSON() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    rendered.set(abs, objects);
  }
  return structuredClone(rendered.get(abs)!);
}

export const renderOverlay = (overlay: AnyOverlay) => render(`overlays/${overlay}`);

export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Deployments and StatefulSets. */
export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
}

export function podSpec(workload: K8sObject): any {
  return workload.spec.template.spec;
}

export function allContainers(workload: K8sObject): Container[] {
  const spec = podSpec(workload);
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** How a container gets one environment variable. */
export type EnvSource =
  /** `refs`: the variables the value is composed of, `$(NAME)`, which Kubernetes expands. */
  | { from: "value"; value: string; refs: string[] }
  | { from: "configMap"; name: string; key: string; value: string | undefined }
  | { from: "secret"; name: string; key: string; optional: boolean }
  | { from: "field"; path: string };

/**
 * The environment of a container as Kubernetes builds it: `envFrom` first (later sources win),
 * then `env` entries, which override them.
 */
export function environment(container: Container, objects: K8sObject[]): Map<string, EnvSource> {
  const env = new Map<string, EnvSource>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const cm = find(objects, "ConfigMap", source.configMapRef.name);
      for (const [key, value] of Object.entries<string>(cm.data ?? {})) {
        env.set(key, { from: "configMap", name: cm.metadata.name, key, value });
      }
    } else if (source.secretRef) {
      throw new Error(`${container.name}: envFrom a whole Secret hides which secrets it takes; use secretKeyRef`);
    }
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      const value = String(entry.value);
      // Kubernetes expands $(NAME) only for variables defined before this one.
      const refs = [...value.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]).filter((name) => env.has(name));
      env.set(entry.name, { from: "value", value, refs });
    } else if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef;
      env.set(entry.name, { from: "secret", name: ref.name, key: ref.key, optional: ref.optional === true });
    } else if (entry.valueFrom?.configMapKeyRef) {
      const ref = entry.valueFrom.configMapKeyRef;
      const cm = find(objects, "ConfigMap", ref.name);
      env.set(entry.name, { from: "configMap", name: ref.name, key: ref.key, value: cm.data?.[ref.key] });
    } else if (entry.valueFrom?.fieldRef) {
      env.set(entry.name, { from: "field", path: entry.valueFrom.fieldRef.fieldPath });
    } else {
      env.set(entry.name, { from: "value", value: "", refs: [] });
    }
  }
  return env;
}

export type Problems = string[][];

/**
 * Schema validation plus the unknown-field check, in a Node child process (see
 * validate-k8s.mjs for why); one call for many objects keeps it to a few hundred milliseconds.
 */
export function validateObjects(objects: unknown[]): Problems {
  const script = path.join(__dirname, "validate-k8s.mjs");
  const out = execFileSync(process.execPath, [script], {
    input: JSON.stringify(objects),
    encoding: "utf8",
    cwd: repoRoot,
  });
  return JSON.parse(out) as Problems;
}

/**
 * The value a container sees, with `$(NAME)` references replaced by the given stand-ins for
 * what the cluster provides (Secrets, fields); undefined when a part has no stand-in.
 */
export function resolve(
  env: Map<string, EnvSource>,
  name: string,
  standIn: (name: string, source: EnvSource) => string | undefined,
): string | undefined {
  const source = env.get(name);
  if (!source) return undefined;
  if (source.from === "value") {
    let value = source.value;
    for (const ref of source.refs) {
      const part = resolve(env, ref, standIn);
      if (part === undefined) return undefined;
      value = value.replaceAll(`$(${ref})`, part);
    }
    return value;
  }
  if (source.from === "configMap") return source.value;
  return standIn(name, source);
}

/** The CloudNativePG Cluster's pods carry this label (set by the operator, not in the manifests). */
export const clusterPodLabels = (cluster: K8sObject): Record<string, string> => ({ "cnpg.io/cluster": cluster.metadata.name });

export function readRepoFile(rel: string): string {
  return fs.readFileSync(path.join(repoRoot, rel), "utf8");
}

export function label(o: K8sObject): string {
  return `${o.kind} ${o.metadata.name}`;
}

/** Parses Kubernetes CPU quantities ("100m", "1") to millicores and memory ("128Mi", "1Gi") to bytes. */
export function quantity(value: string | number): number {
  const text = String(value);
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!m) throw new Error(`not a quantity: ${text}`);
  const n = Number(m[1]);
  const unit = m[2];
  const factors: Record<string, number> = {
    m: 1 / 1000,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return unit ? n * factors[unit] : n;
}
