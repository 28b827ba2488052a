// What the NetworkPolicies of a rendering let through, by the rules of the NetworkPolicy API
// (ingress at the destination and egress at the source), so that tests can ask "may this pod
// open a connection to that port of that pod, or of that address outside the cluster?" instead
// of comparing YAML.
import net from "node:net";
import { allContainers, clusterPodLabels, ofKind, type K8sObject } from "./k8s";

export interface Pod {
  /** For messages. */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number }[];
  /** Its address: pods have one of the cluster's (private) pod network, hosts outside their own. */
  ip: string;
}

/** Pods get addresses of a private range, as pod networks do; ipBlocks are matched against them too. */
const podAddress = "10.244.1.23";

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

/** The pods a rendering runs in the namespace: every workload's template (Jobs' too), and the PostgreSQL instances. */
export function podsOf(objects: K8sObject[]): Pod[] {
  const pods: Pod[] = [];
  for (const w of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet" || o.kind === "Job")) {
    pods.push({
      name: w.metadata.name,
      namespace,
      labels: w.spec.template.metadata.labels ?? {},
      ports: allContainers(w).flatMap((c) => c.ports ?? []),
      ip: podAddress,
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
      ip: podAddress,
    });
  }
  return pods;
}

/** A pod that no manifest here describes, e.g. a gateway's proxy or an operator. */
export function outsider(name: string, ns: string, labels: Record<string, string> = {}): Pod {
  return { name, namespace: ns, labels, ports: [], ip: podAddress };
}

/** A host outside the cluster (an API on the internet, a mail relay), at a given address. */
export function host(name: string, ip: string): Pod {
  return { name, namespace: "", labels: {}, ports: [], ip };
}

function portNumber(pod: Pod, port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return pod.ports.find((p) => p.name === port)?.containerPort;
}

type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } };
type PortRule = { port?: string | number; protocol?: string };

function inBlock(ip: string, block: { cidr: string; except?: string[] }): boolean {
  const family = (address: string) => (net.isIPv6(address) ? "ipv6" : "ipv4");
  const list = (cidrs: string[]) => {
    const l = new net.BlockList();
    for (const c of cidrs) {
      const [address, prefix] = c.split("/");
      l.addSubnet(address, Number(prefix), family(address));
    }
    return l;
  };
  // An IPv4 address is not in an IPv6 block (BlockList would match it as ::ffff:a.b.c.d).
  if (family(block.cidr.split("/")[0]) !== family(ip)) return false;
  return list([block.cidr]).check(ip, family(ip)) && !list(block.except ?? []).check(ip, family(ip));
}

/** Does a policy's peer (of the policy's namespace) name this pod or host? */
function peerMatches(peer: Peer, policyNamespace: string, pod: Pod): boolean {
  if (peer.ipBlock) return inBlock(pod.ip, peer.ipBlock);
  if (pod.namespace === "") return false; // not a pod: only ipBlocks name it
  const inNamespace = peer.namespaceSelector
    ? matches(peer.namespaceSelector, namespaceLabels(pod.namespace))
    : pod.namespace === policyNamespace;
  return inNamespace && matches(peer.podSelector, pod.labels);
}

function portMatches(ports: PortRule[] | undefined, to: Pod, target: number, protocol: string): boolean {
  return (
    !ports ||
    ports.length === 0 ||
    ports.some((p) => (p.protocol ?? "TCP") === protocol && (p.port === undefined || portNumber(to, p.port) === target))
  );
}

/** The policies of `direction` that select `pod` (policies live in the namespace, so only its pods are selected). */
function policiesFor(objects: K8sObject[], pod: Pod, direction: "Ingress" | "Egress"): K8sObject[] {
  return ofKind(objects, "NetworkPolicy").filter((p) => {
    // Without policyTypes, a policy restricts ingress always, egress when it has egress rules.
    const types: string[] = p.spec.policyTypes ?? ["Ingress", ...(p.spec.egress ? ["Egress"] : [])];
    return (p.metadata.namespace ?? namespace) === pod.namespace && types.includes(direction) && matches(p.spec.podSelector, pod.labels);
  });
}

/**
 * May `from` open a connection to `port` (a number or a port name) of `to`? Both ends must let
 * it: the egress policies selecting `from` and the ingress policies selecting `to` (each
 * direction is open for a pod no policy of that direction selects).
 */
export function allowed(objects: K8sObject[], from: Pod, to: Pod, port: number | string, protocol: "TCP" | "UDP" = "TCP"): boolean {
  const target = portNumber(to, port);
  if (target === undefined) throw new Error(`${to.name} has no port ${port}`);
  const ingress = policiesFor(objects, to, "Ingress");
  const ingressOk =
    ingress.length === 0 ||
    ingress.some((policy) =>
      (policy.spec.ingress ?? []).some(
        (rule: { from?: Peer[]; ports?: PortRule[] }) =>
          (!rule.from ||
            rule.from.length === 0 ||
            rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace ?? namespace, from))) &&
          portMatches(rule.ports, to, target, protocol),
      ),
    );
  const egress = policiesFor(objects, from, "Egress");
  const egressOk =
    egress.length === 0 ||
    egress.some((policy) =>
      (policy.spec.egress ?? []).some(
        (rule: { to?: Peer[]; ports?: PortRule[] }) =>
          (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, policy.metadata.namespace ?? namespace, to))) &&
          portMatches(rule.ports, to, target, protocol),
      ),
    );
  return ingressOk && egressOk;
}

/** Is `pod` selected by some policy restricting its egress? */
export function egressRestricted(objects: K8sObject[], pod: Pod): boolean {
  return policiesFor(objects, pod, "Egress").length > 0;
}
