import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { ServiceMetrics, type Bus, type Queryable } from "@ticketforge/common";
import {
  environment,
  find,
  k8sDir,
  label,
  ofKind,
  overlays,
  podSpec,
  readRepoFile,
  render,
  renderOverlay,
  repoRoot,
  services,
  validateObjects,
  type K8sObject,
} from "./support/k8s";
import { allowed, egressRestricted, outsider, podsOf } from "./support/network";

const observability = path.join(repoRoot, "infra/observability");
const rule = YAML.parse(readRepoFile("infra/observability/prometheus-rule.yaml"));
const dashboard = JSON.parse(readRepoFile("infra/observability/grafana-dashboard.json"));

/** The dev overlay with the collector component on, as a developer would turn it on. */
function renderDevWithCollector(): K8sObject[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-otel-"));
  try {
    const rel = (p: string) => path.relative(dir, path.join(k8sDir, p));
    fs.writeFileSync(
      path.join(dir, "kustomization.yaml"),
      YAML.stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        namespace: "ticketforge",
        resources: [rel("overlays/dev")],
        components: [rel("components/otel-collector")],
      }),
    );
    return render(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every metric name a TicketForge service serves (histograms with their _bucket, _sum, _count). */
async function servedMetricNames(): Promise<Set<string>> {
  const metrics = new ServiceMetrics("any");
  metrics.watchConsumers({} as Bus, []);
  metrics.watchOutbox({} as Queryable);
  metrics.watchDeadLetters({} as Bus);
  metrics.watchPool(() => undefined);
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${m.name}${suffix}`);
  }
  // the expiration service adds its own gauges, the tickets listing its counter
  for (const m of readRepoFile("expiration/src/workers/timers.ts").matchAll(/gauge\(\s*"(tf_\w+)"/g)) names.add(m[1]);
  for (const m of readRepoFile("tickets/src/routes/list-tickets.ts").matchAll(/counter\(\s*"(tf_\w+)"/g)) names.add(m[1]);
  return names;
}

/** Metric names in a PromQL expression (ours all start with one of these prefixes). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:tf|process|nodejs)_\w+)/g)].map((m) => m[1]);
}

describe("scraping", () => {
  test.each(overlays)("overlays/%s: every service's pods are scraped on their own port at /metrics", (overlay) => {
    const objects = renderOverlay(overlay);
    for (const service of services) {
      const deployment = find(objects, "Deployment", service);
      const port = podSpec(deployment).containers[0].ports.find((p: { name: string }) => p.name === "http").containerPort;
      expect([service, deployment.spec.template.metadata.annotations]).toEqual([
        service,
        { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": "/metrics" },
      ]);
    }
  });

  test.each(overlays)("overlays/%s: the Ingress routes no /metrics (only /api/* and the web app)", (overlay) => {
    for (const ingress of ofKind(renderOverlay(overlay), "Ingress")) {
      for (const r of ingress.spec.rules) {
        for (const p of r.http.paths) {
          expect(p.path).not.toMatch(/metrics/);
          if (p.path !== "/") expect(p.path).toMatch(/^\/api\//);
          else expect(p.backend.service.name).toBe("client");
        }
      }
    }
  });
});

describe("alert rules", () => {
  test("The PrometheusRule is valid for the Prometheus Operator, and a broken one is not", () => {
    const validate = (o: unknown) =>
      JSON.parse(
        execFileSync(process.execPath, [path.join(__dirname, "support/validate-prometheus-rule.mjs")], {
          input: JSON.stringify(o),
          encoding: "utf8",
          cwd: repoRoot,
        }),
      ) as string[];
    expect(validate(rule)).toEqual([]);
    const broken = structuredClone(rule);
    delete broken.spec.groups[0].rules[0].expr;
    broken.spec.groups[0].rules[1].for = "a while";
    expect(validate(broken)).toHaveLength(2);
    // the models accept unknown keys: a misspelt `annotation` would be dropped silently
    const known = new Set(["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"]);
    for (const g of rule.spec.groups) for (const r of g.rules) expect(Object.keys(r).filter((k) => !known.has(k))).toEqual([]);
  });

  test("There are alerts for a growing consumer lag, any dead letter and an outbox row older than 30 s", () => {
    const rules = rule.spec.groups.flatMap((g: { rules: Array<{ alert: string; expr: string }> }) => g.rules);
    const exprOf = (alert: string) => rules.find((r: { alert: string }) => r.alert === alert)?.expr.replace(/\s+/g, " ");
    expect(exprOf("TicketForgeConsumerLagGrowing")).toMatch(/deriv\(tf_consumer_pending_messages\[\w+\]\)\) > 0/);
    expect(exprOf("TicketForgeDeadLetters")).toMatch(/tf_dead_letters\) > 0$/);
    expect(exprOf("TicketForgeOutboxBackingUp")).toMatch(/tf_outbox_oldest_pending_age_seconds\) > 30$/);
  });
});

describe("dashboard", () => {
  const exprs = [
    ...dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr)),
    ...rule.spec.groups.flatMap((g: { rules: Array<{ expr: string }> }) => g.rules.map((r) => r.expr)),
  ] as string[];

  test("Every query of the dashboard and of the alerts names a metric the services serve", async () => {
    const served = await servedMetricNames();
    const used = [...new Set(exprs.flatMap(metricsIn))];
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !served.has(name))).toEqual([]);
  });

  test("It shows the purchase funnel, latencies, consumer lag, the outbox and dead letters", () => {
    const titles = dashboard.panels.map((p: { title: string }) => p.title).join(" | ");
    for (const words of [/Purchases/, /HTTP p95/, /Consumer lag/, /Outbox/, /Dead letters/]) expect(titles).toMatch(words);
    const funnel = dashboard.panels.find((p: { title: string }) => p.title === "Purchases per minute");
    expect(funnel.targets.map((t: { expr: string }) => t.expr).join(" ")).toMatch(/\/api\/orders[\s\S]*\/api\/payments/);
  });

  test("The files are where the README says", () => {
    expect(fs.readdirSync(observability).sort()).toEqual(["grafana-dashboard.json", "prometheus-rule.yaml"]);
  });
});

describe("OpenTelemetry Collector (optional, dev)", () => {
  test("Without it, no overlay exports traces (the services then only pass trace ids on)", () => {
    for (const overlay of overlays) {
      const config = ofKind(renderOverlay(overlay), "ConfigMap").filter((c) => c.metadata.name.startsWith("ticketforge-config"));
      expect(config.map((c) => c.data.OTEL_EXPORTER_OTLP_ENDPOINT)).toEqual([undefined]);
    }
  });

  test("When the dev overlay turns it on, then every object is valid and every service exports to its OTLP/HTTP port", () => {
    const objects = renderDevWithCollector();
    const problems = validateObjects(objects);
    expect(objects.flatMap((o, i) => problems[i].map((p) => `${label(o)} ${p}`))).toEqual([]);
    const collector = find(objects, "Service", "otel-collector");
    const port = collector.spec.ports.find((p: { name: string }) => p.name === "otlp-http").port;
    for (const service of services) {
      const container = podSpec(find(objects, "Deployment", service)).containers[0];
      expect([
        service,
        (environment(container, objects).get("OTEL_EXPORTER_OTLP_ENDPOINT") as { value?: string } | undefined)?.value,
      ]).toEqual([service, `http://otel-collector:${port}`]);
    }
    // the collector reads the config it is given and receives OTLP over HTTP on that port
    const configMap = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("otel-collector-config"));
    const config = YAML.parse(configMap!.data["collector.yaml"]);
    expect(config.receivers.otlp.protocols.http.endpoint).toBe(`0.0.0.0:${port}`);
    expect(config.service.pipelines.traces.receivers).toEqual(["otlp"]);
  });

  test("When the dev overlay turns it on, then the network policies let the services, and only them, send it traces", () => {
    const objects = renderDevWithCollector();
    const pods = podsOf(objects);
    const collector = pods.find((p) => p.name === "otel-collector")!;
    for (const p of pods) {
      expect([p.name, allowed(objects, p, collector, "otlp-http")]).toEqual([p.name, services.includes(p.name)]);
    }
    expect(allowed(objects, outsider("a pod of another namespace", "other"), collector, "otlp-http")).toBe(false);
    // and it may open no connection but DNS lookups as shipped (its exporter prints)
    expect(egressRestricted(objects, collector)).toBe(true);
    for (const p of pods.filter((q) => q.ports.length > 0)) {
      for (const port of p.ports)
        expect([p.name, port.containerPort, allowed(objects, collector, p, port.containerPort)]).toEqual([
          p.name,
          port.containerPort,
          false,
        ]);
    }
  });
});
