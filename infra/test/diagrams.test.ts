import { subjects } from "../../common/src/events/subjects";
import { apps, ofKind, readRepoFile, renderOverlay, services, workloads, type Service } from "./support/k8s";
import { manifest, serviceEntry } from "../../scripts/services";

/** The first ```mermaid block of a diagrams/*.md file. */
function mermaid(file: string): string {
  const block = /```mermaid\n([\s\S]*?)```/.exec(readRepoFile(`diagrams/${file}`));
  if (!block) throw new Error(`diagrams/${file} has no mermaid block`);
  return block[1];
}

/** Node labels by id (every label in these diagrams is quoted) and the edges between ids. */
function graph(source: string) {
  const labels = new Map<string, string>();
  for (const m of source.matchAll(/\b([A-Za-z0-9_]+)\s*(?:\(\[|\[\(|\[\[|\{\{|\(\(|\[\/|\[|\(|\{)"([^"]+)"/g)) {
    labels.set(m[1], m[2]);
  }
  const edges: { from: string; to: string; label?: string }[] = [];
  for (const line of source.split("\n")) {
    const m = /^\s*([A-Za-z0-9_]+)\s*(?:-->|-\.->|==>|<-->|---)\s*(?:\|"?([^|"]*)"?\|\s*)?([A-Za-z0-9_]+)\s*(?:[[({].*)?$/.exec(line);
    if (m) edges.push({ from: m[1], to: m[3], label: m[2] });
  }
  const name = (id: string) => labels.get(id) ?? id;
  return { labels, edges, name };
}

describe("diagrams/events.md", () => {
  const source = mermaid("events.md");
  const { labels, edges, name } = graph(source);
  const subjectNodes = [...labels].filter(([, label]) => (subjects as readonly string[]).includes(label));

  test("names exactly the subjects defined in common/src/events/subjects.ts", () => {
    // Any dotted word is taken for a subject, so a misspelt or removed one cannot hide.
    const named = new Set(source.match(/\b[a-z]+\.[a-z_]+\b/g) ?? []);
    expect([...named].sort()).toEqual([...subjects].sort());
    expect(subjectNodes.map(([, label]) => label).sort()).toEqual([...subjects].sort());
  });

  // The service that publishes a subject, as services.json says (scripts/test/services-manifest.test.ts
  // holds that to the services' code).
  const publisherOf = (subject: string): Service => {
    const publishers = manifest.services.filter((s) => (s.publishes as readonly string[]).includes(subject));
    if (publishers.length !== 1) throw new Error(`services.json names ${publishers.length} publishers of ${subject}`);
    return publishers[0].name;
  };

  test.each([...subjects])("%s: drawn with its one publisher, the service of its domain", (subject) => {
    const [id] = subjectNodes.find(([, label]) => label === subject)!;
    const publishers = edges.filter((e) => e.to === id).map((e) => name(e.from));
    expect(publishers).toEqual([publisherOf(subject)]);
  });

  /** What a service consumes, as services.json says. */
  const listenedTo = (service: Service): string[] => [...serviceEntry(service).consumes].sort();

  test.each([...services])("%s: the subjects drawn flowing into it are exactly those services.json says it consumes", (service) => {
    const subjectIds = new Set(subjectNodes.map(([id]) => id));
    const drawn = edges
      .filter((e) => subjectIds.has(e.from) && name(e.to) === service)
      .map((e) => name(e.from))
      .sort();
    expect(drawn).toEqual(listenedTo(service));
  });

  // passes announces its events for whoever comes next (a live door view, analytics): no consumer yet
  const announcedOnly = ["pass.issued", "pass.transferred", "pass.checked_in"];

  test("every subject has at least one consumer, but those announced only, which have none", () => {
    for (const [id, label] of subjectNodes) {
      expect([label, edges.some((e) => e.from === id)]).toEqual([label, !announcedOnly.includes(label)]);
    }
  });
});

describe("diagrams/architecture.md", () => {
  const { edges, name } = graph(mermaid("architecture.md"));
  const routes: { prefix: string; service: string }[] = JSON.parse(readRepoFile("infra/routes.json")).routes;

  test("the entry point routes exactly as infra/routes.json", () => {
    const drawn = edges.filter((e) => e.from === "ingress").map((e) => ({ prefix: e.label, service: name(e.to).split(" ")[0] }));
    expect(drawn).toEqual(routes);
  });

  test("every app is drawn, and every service with a database of its own", () => {
    const names = new Set(edges.flatMap((e) => [name(e.from), name(e.to)]).map((n) => n.split(" ")[0]));
    for (const app of apps) expect([app, names.has(app)]).toEqual([app, true]);
    for (const service of services) {
      const db = edges.find((e) => e.from === service && name(e.to) === `${service} DB`);
      expect([service, !!db]).toEqual([service, true]);
    }
  });
});

describe("diagrams/deployment.md", () => {
  const source = mermaid("deployment.md");
  const objects = renderOverlay("prod");

  test("draws every workload of the prod overlay with its kind, and the PostgreSQL Cluster", () => {
    for (const w of [...workloads(objects), ...ofKind(objects, "Cluster")]) {
      expect([w.metadata.name, source.includes(`${w.kind} ${w.metadata.name}`)]).toEqual([w.metadata.name, true]);
    }
  });

  test("shows the NATS and PostgreSQL sizes and the gateway's routes as deployed", () => {
    const nats = ofKind(objects, "StatefulSet").find((s) => s.metadata.name === "nats")!;
    for (let i = 0; i < nats.spec.replicas; i++) expect(source).toContain(`nats-${i}`);
    expect(source).not.toContain(`nats-${nats.spec.replicas}`);
    // CloudNativePG numbers its instances from 1.
    const cluster = ofKind(objects, "Cluster")[0];
    expect(source).toContain(`${cluster.spec.instances} instances`);
    for (let i = 1; i <= cluster.spec.instances; i++) expect(source).toContain(`${cluster.metadata.name}-${i}`);
    expect(source).not.toContain(`${cluster.metadata.name}-${cluster.spec.instances + 1}`);
    const route = ofKind(objects, "HTTPRoute").find((r) => r.metadata.name === "ticketforge")!;
    for (const rule of route.spec.rules) {
      expect(source).toContain(`gw -->|"${rule.matches[0].path.value}"| ${rule.backendRefs[0].name}`);
    }
  });

  test("says how each Deployment scales: a ScaledObject or an HPA, as the overlay does", () => {
    const scaled = new Set(ofKind(objects, "ScaledObject").map((s) => s.spec.scaleTargetRef.name));
    const hpa = new Set(ofKind(objects, "HorizontalPodAutoscaler").map((h) => h.spec.scaleTargetRef.name));
    for (const d of ofKind(objects, "Deployment")) {
      const line = source.split("\n").find((l) => l.includes(`Deployment ${d.metadata.name} `))!;
      const drawn = line.includes("ScaledObject") ? "ScaledObject" : line.includes("HPA") ? "HPA" : "none";
      const actual = scaled.has(d.metadata.name) ? "ScaledObject" : hpa.has(d.metadata.name) ? "HPA" : "none";
      expect([d.metadata.name, drawn]).toEqual([d.metadata.name, actual]);
    }
  });
});
