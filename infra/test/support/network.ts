// What the NetworkPolicies of a rendering let through, by the rules of the NetworkPolicy API
// (ingress only, the direction the manifests restrict), so that tests can ask "may this pod
// open a connection to that port of that pod?" instead of comparing YAML.
import { allContainers, clusterPodLabels, ofKind, type K8sObject } from "./k8s";

export interface Pod {
  /** For messages. */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number }[];
}

export const namespace = "ticketforge";

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
};

export function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    if (e.operator === "In" && !(has && (e.values ?? []).includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && (e.values ?? []).includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** Namespaces carry their name as the label kubernetes.io/metadata.name (set by the API server). */
const namespaceLabels = (ns: string) => ({ "kubernetes.io/metadata.name": ns });

/** The pods a rendering runs in the namespace: every workload's template, and the PostgreSQL instances. */
export function podsOf(objects: K8sObject[]): Pod[] {
  const pods: Pod[] = [];
  for (const w of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")) {
    pods.push({
      name: w.metadata.name,
      namespace,
      labels: w.spec.template.metadata.labels ?? {},
      ports: allContainers(w).flatMap((c) => c.ports ?? []),
    });
  }
  for (const cluster of ofKind(objects, "Cluster")) {
    pods.push({
      name: `${cluster.metadata.name} (PostgreSQL instance)`,
      namespace,
      labels: clusterPodLabels(cluster),
      // The instance manager's ports (CloudNativePG): PostgreSQL, status, metrics.
      ports: [
        { name: "postgresql", containerPort: 5432 },
        { name: "status", containerPort: 8000 },
        { name: "metrics", containerPort: 9187 },
      ],
    });
  }
  return pods;
}

/** A pod that no manifest here describes, e.g. a gateway's proxy or an operator. */
export function outsider(name: string, ns: string, labels: Record<string, string> = {}): Pod {
  return { name, namespace: ns, labels, ports: [] };
}

function portNumber(pod: Pod, port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return pod.ports.find((p) => p.name === port)?.containerPort;
}

/** May `from` open a TCP connection to `port` (a number or a port name) of `to`? */
export function allowed(objects: K8sObject[], from: Pod, to: Pod, port: number | string): boolean {
  const target = portNumber(to, port);
  if (target === undefined) throw new Error(`${to.name} has no port ${port}`);
  const policies = ofKind(objects, "NetworkPolicy").filter((p) => {
    const types: string[] = p.spec.policyTypes ?? ["Ingress"];
    return (p.metadata.namespace ?? namespace) === to.namespace && types.includes("Ingress") && matches(p.spec.podSelector, to.labels);
  });
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    (policy.spec.ingress ?? []).some((rule: { from?: any[]; ports?: { port?: string | number; protocol?: string }[] }) => {
      const peerOk =
        !rule.from ||
        rule.from.length === 0 ||
        rule.from.some((peer) => {
          if (peer.ipBlock) return false;
          const inNamespace = peer.namespaceSelector
            ? matches(peer.namespaceSelector, namespaceLabels(from.namespace))
            : from.namespace === (policy.metadata.namespace ?? namespace);
          return inNamespace && matches(peer.podSelector, from.labels);
        });
      const portOk =
        !rule.ports ||
        rule.ports.length === 0 ||
        rule.ports.some((p) => (p.protocol ?? "TCP") === "TCP" && (p.port === undefined || portNumber(to, p.port) === target));
      return peerOk && portOk;
    }),
  );
}
