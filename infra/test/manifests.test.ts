import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { durableName } from "../../common/src/bus/durables";
import { streamOf, type Subject } from "../../common/src/events/subjects";
import { allowed, egressRestricted, host, outsider, podsOf, type Pod } from "./support/network";
import { serviceEntry } from "../../scripts/services";
import {
  allContainers,
  apps,
  environment,
  find,
  ingressNginxOverlays,
  k8sDir,
  label,
  ofKind,
  overlays,
  ownSecrets,
  podSpec,
  quantity,
  render,
  renderOverlay,
  repoRoot,
  secretName,
  services,
  validateObjects,
  workloads,
  type AnyOverlay,
  type K8sObject,
} from "./support/k8s";

const allOverlays: AnyOverlay[] = [...overlays, ...ingressNginxOverlays];
const rendered = Object.fromEntries(allOverlays.map((o) => [o, renderOverlay(o)])) as Record<AnyOverlay, K8sObject[]>;
const routes: { prefix: string; service: string }[] = JSON.parse(fs.readFileSync(path.join(repoRoot, "infra/routes.json"), "utf8")).routes;
// One validator process for every overlay: compiling the CloudNativePG Cluster schema is the slow part.
const problemsOf = (() => {
  const all = validateObjects(allOverlays.flatMap((o) => rendered[o]));
  let offset = 0;
  const byOverlay = {} as Record<AnyOverlay, string[][]>;
  for (const o of allOverlays) {
    byOverlay[o] = all.slice(offset, offset + rendered[o].length);
    offset += rendered[o].length;
  }
  return byOverlay;
})();

describe("rendering", () => {
  test.each(allOverlays)("overlays/%s renders with kubectl kustomize", (overlay) => {
    expect(rendered[overlay].length).toBeGreaterThan(0);
  });

  test("the base renders on its own too", () => {
    expect(render("base").length).toBeGreaterThan(0);
  });

  test.each(allOverlays)("overlays/%s: every object lives in the ticketforge namespace", (overlay) => {
    for (const o of rendered[overlay]) expect([label(o), o.metadata.namespace]).toEqual([label(o), "ticketforge"]);
  });
});

describe("schemas", () => {
  test.each(allOverlays)("overlays/%s: every object is valid and has no unknown field", (overlay) => {
    const problems = problemsOf[overlay];
    const report = rendered[overlay].flatMap((o, i) => problems[i].map((p) => `${label(o)} ${p}`));
    expect(report).toEqual([]);
  });

  test("the operators' kinds are checked too: Gateway API, KEDA and CloudNativePG objects with a misspelt field are rejected", () => {
    const prod = rendered.prod;
    const route = structuredClone(find(prod, "HTTPRoute", "ticketforge"));
    route.spec.rules[0].backendRef = route.spec.rules[0].backendRefs;
    const gateway = structuredClone(find(prod, "Gateway", "ticketforge"));
    gateway.spec.listeners[0].hostnames = ["ticketforge.local"];
    const scaled = structuredClone(find(prod, "ScaledObject", "orders"));
    scaled.spec.minReplicas = 2;
    const cluster = structuredClone(find(prod, "Cluster", "postgres"));
    cluster.spec.instance = 3;
    cluster.spec.managed.roles[0].passwordSecrets = cluster.spec.managed.roles[0].passwordSecret;
    const database = structuredClone(find(prod, "Database", "postgres-orders"));
    database.spec.onwer = "orders";
    database.metadata.label = database.metadata.labels;
    const backup = structuredClone(find(prod, "ScheduledBackup", "postgres-nightly"));
    backup.spec.method = "barmanCloud";
    const store = structuredClone(find(prod, "ObjectStore", "postgres-backups"));
    store.spec.configuration.destinationPaht = store.spec.configuration.destinationPath;
    delete store.spec.configuration.destinationPath;
    const wrongType = structuredClone(find(prod, "Cluster", "postgres"));
    wrongType.spec.instances = "three";

    const problems = validateObjects([route, gateway, scaled, cluster, database, backup, store, wrongType]);
    expect(problems.slice(0, 5)).toEqual([
      ["/spec/rules/0/backendRef: unknown field"],
      ["/spec/listeners/0/hostnames: unknown field"],
      ["/spec/minReplicas: unknown field"],
      ["/spec/instance: unknown field", "/spec/managed/roles/0/passwordSecrets: unknown field"],
      ["/metadata/label: unknown field", "/spec/onwer: unknown field"],
    ]);
    expect(problems[5].join("\n")).toMatch(/\/spec\/method: must be equal to one of the allowed values/);
    expect(problems[6].join("\n")).toMatch(/\/spec\/configuration\/destinationPaht: unknown field/);
    expect(problems[6].join("\n")).toMatch(/required property 'destinationPath'/);
    expect(problems[7].join("\n")).toMatch(/\/spec\/instances: must be integer/);
  });

  test("a misspelt field is rejected, as are a wrong type and a missing required field", () => {
    const deployment = find(rendered.dev, "Deployment", "auth");
    const typo = structuredClone(deployment);
    typo.spec.replica = 2;
    typo.spec.template.spec.containers[0].readinesProbe = typo.spec.template.spec.containers[0].readinessProbe;
    typo.spec.template.spec.containers[0].resources.limit = { cpu: "1" };
    const wrongType = structuredClone(deployment);
    wrongType.spec.replicas = "two";
    const missing = structuredClone(deployment);
    delete missing.spec.selector;
    const unknownKind = { apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } };

    const [clean, typoProblems, typeProblems, missingProblems, kindProblems] = validateObjects([
      deployment,
      typo,
      wrongType,
      missing,
      unknownKind,
    ]);
    expect(clean).toEqual([]);
    expect(typoProblems).toEqual(
      expect.arrayContaining([
        "/spec/replica: unknown field",
        "/spec/template/spec/containers/0/readinesProbe: unknown field",
        "/spec/template/spec/containers/0/resources/limit: unknown field",
      ]),
    );
    expect(typoProblems).toHaveLength(3);
    expect(typeProblems.join("\n")).toMatch(/\/spec\/replicas/);
    expect(missingProblems.join("\n")).toMatch(/selector/);
    expect(kindProblems).toEqual(["no schema for apps/v1 Deploymnet"]);
  });
});

describe.each(overlays)("overlays/%s workloads", (overlay) => {
  const objects = rendered[overlay];
  const deployments = ofKind(objects, "Deployment");

  test("there is one Deployment per app", () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...apps].sort());
  });

  test("every Deployment has a readiness probe on /readyz and a liveness probe on /healthz", () => {
    for (const d of deployments) {
      for (const c of podSpec(d).containers) {
        expect([label(d), c.readinessProbe?.httpGet?.path]).toEqual([label(d), "/readyz"]);
        expect([label(d), c.livenessProbe?.httpGet?.path]).toEqual([label(d), "/healthz"]);
      }
    }
  });

  test("every container of every workload has probes and resource requests and limits", () => {
    for (const w of workloads(objects)) {
      for (const c of allContainers(w)) {
        const where = `${label(w)} container ${c.name}`;
        for (const probe of ["readinessProbe", "livenessProbe"]) expect([where, probe, !!c[probe]]).toEqual([where, probe, true]);
        for (const kind of ["requests", "limits"] as const) {
          for (const resource of ["cpu", "memory"]) {
            expect([where, kind, resource, c.resources?.[kind]?.[resource] !== undefined]).toEqual([where, kind, resource, true]);
          }
        }
        for (const resource of ["cpu", "memory"]) {
          const request = quantity(c.resources.requests[resource]);
          const limit = quantity(c.resources.limits[resource]);
          expect([where, resource, request <= limit]).toEqual([where, resource, true]);
        }
      }
    }
  });

  test("every workload runs as non-root, without privilege escalation, dropping all capabilities", () => {
    for (const w of workloads(objects)) {
      const pod = podSpec(w).securityContext ?? {};
      for (const c of allContainers(w)) {
        const where = `${label(w)} container ${c.name}`;
        const sc = c.securityContext ?? {};
        const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
        const user = sc.runAsUser ?? pod.runAsUser;
        expect([where, nonRoot]).toEqual([where, true]);
        // A numeric non-zero user, or the kubelet refuses images whose USER is a name.
        expect([where, typeof user === "number" && user > 0]).toEqual([where, true]);
        expect([where, sc.allowPrivilegeEscalation]).toEqual([where, false]);
        expect([where, sc.privileged ?? false]).toEqual([where, false]);
        expect([where, sc.capabilities?.drop]).toEqual([where, ["ALL"]]);
      }
    }
  });

  test("no pod mounts a service-account token it has no use for", () => {
    for (const w of workloads(objects)) expect([label(w), podSpec(w).automountServiceAccountToken]).toEqual([label(w), false]);
  });

  test("terminationGracePeriodSeconds exceeds the preStop sleep plus SHUTDOWN_TIMEOUT_MS", () => {
    for (const d of deployments) {
      const spec = podSpec(d);
      const c = spec.containers[0];
      const env = environment(c, objects);
      const timeout = env.get("SHUTDOWN_TIMEOUT_MS");
      // The client has no SHUTDOWN_TIMEOUT_MS; Next.js finishes in-flight requests within the default 10 s.
      const drainMs = timeout && timeout.from !== "secret" && timeout.from !== "field" ? Number(timeout.value) : 10_000;
      const command: string[] = c.lifecycle?.preStop?.exec?.command ?? [];
      expect([label(d), command[0]]).toEqual([label(d), "sleep"]);
      const preStopMs = Number(command[1]) * 1000;
      const graceMs = spec.terminationGracePeriodSeconds * 1000;
      expect([label(d), graceMs > preStopMs + drainMs]).toEqual([label(d), true]);
    }
  });

  test("secrets come only by secretKeyRef: no Secret object, no literal secret in env or ConfigMaps", () => {
    expect(ofKind(objects, "Secret")).toEqual([]);
    const secretish = /KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|CREDENTIAL/i;
    const publicByDesign = /^NEXT_PUBLIC_/;
    for (const cm of ofKind(objects, "ConfigMap")) {
      for (const key of Object.keys(cm.data ?? {})) {
        if (publicByDesign.test(key)) continue;
        expect([label(cm), key, secretish.test(key)]).toEqual([label(cm), key, false]);
      }
    }
    for (const w of workloads(objects)) {
      for (const c of allContainers(w)) {
        const env = environment(c, objects);
        for (const [name, source] of env) {
          if (!secretish.test(name) || publicByDesign.test(name)) continue;
          // A secret, or a value composed with one ($(DATABASE_PASSWORD) in DATABASE_URL).
          const fromSecret =
            source.from === "secret" || (source.from === "value" && source.refs.some((r) => env.get(r)?.from === "secret"));
          expect([label(w), name, fromSecret]).toEqual([label(w), name, true]);
        }
      }
    }
  });

  test("each service reads the shared Secret and its own credentials only, never another service's", () => {
    for (const d of deployments) {
      const own = (services as readonly string[]).includes(d.metadata.name) ? Object.values(ownSecrets(d.metadata.name)) : [];
      for (const c of allContainers(d)) {
        for (const source of environment(c, objects).values()) {
          if (source.from !== "secret") continue;
          expect([label(d), source.name, [secretName, ...own].includes(source.name)]).toEqual([label(d), source.name, true]);
        }
      }
    }
    for (const s of services) {
      const env = environment(podSpec(find(objects, "Deployment", s)).containers[0], objects);
      expect(env.get("NATS_USER")).toEqual({ from: "value", value: s, refs: [] });
      expect(env.get("NATS_PASSWORD")).toEqual({ from: "secret", name: ownSecrets(s).nats, key: "password", optional: false });
    }
  });

  test("no kustomization generates a Secret (their values would be committed or required to render)", () => {
    const kustomizations: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const abs = path.join(dir, e.name);
        if (e.isDirectory()) walk(abs);
        else if (e.name === "kustomization.yaml") kustomizations.push(abs);
      }
    };
    walk(k8sDir);
    expect(kustomizations.length).toBeGreaterThanOrEqual(3);
    for (const file of kustomizations) {
      expect([path.relative(repoRoot, file), /secretGenerator/.test(fs.readFileSync(file, "utf8"))]).toEqual([
        path.relative(repoRoot, file),
        false,
      ]);
    }
  });

  test("every Service selects pods of some workload and targets a port they declare", () => {
    for (const svc of ofKind(objects, "Service")) {
      const selector: Record<string, string> = svc.spec.selector;
      const matches = workloads(objects).filter((w) =>
        Object.entries(selector).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v),
      );
      expect([label(svc), matches.length]).toEqual([label(svc), 1]);
      const ports = allContainers(matches[0]).flatMap((c) => c.ports ?? []);
      for (const p of svc.spec.ports) {
        const target = p.targetPort ?? p.port;
        const found = ports.some((cp: { name?: string; containerPort: number }) => cp.name === target || cp.containerPort === target);
        expect([label(svc), p.name, found]).toEqual([label(svc), p.name, true]);
      }
    }
  });

  test("each app listens where its Service sends traffic: PORT equals the container port", () => {
    for (const d of deployments) {
      const c = podSpec(d).containers[0];
      const port = environment(c, objects).get("PORT");
      const http = c.ports.find((p: { name: string }) => p.name === "http");
      expect([label(d), port?.from === "configMap" || port?.from === "value" ? Number(port.value) : undefined]).toEqual([
        label(d),
        http.containerPort,
      ]);
    }
  });

  test("NATS is a StatefulSet keeping its data on persistent volumes", () => {
    const sts = find(objects, "StatefulSet", "nats");
    const claims = (sts.spec.volumeClaimTemplates ?? []).map((t: K8sObject) => t.metadata.name);
    const mounts = allContainers(sts).flatMap((c) => (c.volumeMounts ?? []).map((m: { name: string }) => m.name));
    expect(claims).toEqual(["data"]);
    expect(mounts.includes("data")).toBe(true);
    // The governing Service must exist for the pods' stable DNS names.
    expect(() => find(objects, "Service", sts.spec.serviceName)).not.toThrow();
  });

  test("NATS runs with JetStream enabled and its store on the volume", () => {
    const nats = find(objects, "StatefulSet", "nats");
    const configMap = podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name;
    const conf: string = find(objects, "ConfigMap", configMap).data["nats.conf"];
    expect(conf).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data/);
    const mount = podSpec(nats).containers[0].volumeMounts.find((m: { name: string }) => m.name === "data");
    expect(mount.mountPath).toBe("/data");
  });

  test("PostgreSQL is one CloudNativePG Cluster, the only database, without a superuser login", () => {
    const clusters = ofKind(objects, "Cluster");
    expect(clusters.map((c) => c.metadata.name)).toEqual(["postgres"]);
    expect(workloads(objects).map((w) => w.metadata.name)).not.toContain("postgres");
    const cluster = clusters[0];
    expect(cluster.spec.enableSuperuserAccess).toBe(false);
    // A release line, like every third-party image.
    expect(cluster.spec.imageName).toMatch(/^ghcr\.io\/cloudnative-pg\/postgresql:\d+[\w.-]*$/);
  });

  test.each([...services])(
    "%s: its database settings are the Cluster's: its own role, its password Secret, its own database, the read-write Service",
    (service) => {
      const cluster = find(objects, "Cluster", "postgres");
      const env = environment(podSpec(find(objects, "Deployment", service)).containers[0], objects);
      const url = env.get("DATABASE_URL");
      expect(url?.from).toBe("value");
      if (url?.from !== "value") return;
      expect(url.refs).toEqual(["DATABASE_PASSWORD"]);
      const parsed = new URL(url.value.replace("$(DATABASE_PASSWORD)", "PASSWORD"));
      expect(parsed.protocol).toBe("postgresql:");
      // The operator's Service for the primary: writes never land on a replica.
      expect(parsed.hostname).toBe(`${cluster.metadata.name}-rw`);
      expect(parsed.port).toBe("5432");
      expect(parsed.password).toBe("PASSWORD");

      const role = cluster.spec.managed.roles.find((r: { name: string }) => r.name === decodeURIComponent(parsed.username));
      expect(role).toMatchObject({ login: true, ensure: "present" });
      expect(role.superuser ?? false).toBe(false);
      // The password the service sends is the one the operator gives its role.
      expect(env.get("DATABASE_PASSWORD")).toEqual({ from: "secret", name: role.passwordSecret.name, key: "password", optional: false });
      expect(role.passwordSecret.name).toBe(ownSecrets(service).database);

      const database = ofKind(objects, "Database").filter((d) => d.spec.name === parsed.pathname.slice(1));
      expect(database).toHaveLength(1);
      expect(database[0].spec).toMatchObject({ cluster: { name: cluster.metadata.name }, owner: role.name });
    },
  );

  test("one role and one database per service, each role reaching its own database only", () => {
    const cluster = find(objects, "Cluster", "postgres");
    expect(cluster.spec.managed.roles.map((r: { name: string }) => r.name).sort()).toEqual([...services].sort());
    const databases = ofKind(objects, "Database").map((d) => ({ name: d.spec.name, owner: d.spec.owner, cluster: d.spec.cluster.name }));
    expect(databases.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      [...services].sort().map((s) => ({ name: s, owner: s, cluster: "postgres" })),
    );
    // Over the network a role reaches only its own database (named after it), whatever PUBLIC may.
    expect(cluster.spec.postgresql.pg_hba).toEqual(["host sameuser all all scram-sha-256", "host all all all reject"]);
    // Removing the manifests must not drop a service's data.
    for (const d of ofKind(objects, "Database")) expect([label(d), d.spec.databaseReclaimPolicy]).toEqual([label(d), "retain"]);
  });

  test("server-side rendering reaches every API prefix directly, at its Service's port", () => {
    const client = find(objects, "Deployment", "client");
    const env = environment(podSpec(client).containers[0], objects);
    const overrides: Record<string, string> = {
      "/api/users": "AUTH_URL",
      "/api/tickets": "TICKETS_URL",
      "/api/orders": "ORDERS_URL",
      "/api/payments": "PAYMENTS_URL",
      "/api/passes": "PASSES_URL",
      "/api/checkins": "PASSES_URL",
    };
    for (const route of routes.filter((r) => r.prefix.startsWith("/api/"))) {
      const variable = overrides[route.prefix];
      expect([route.prefix, variable !== undefined]).toEqual([route.prefix, true]);
      const port = find(objects, "Service", route.service).spec.ports[0].port;
      const source = env.get(variable);
      expect([variable, source?.from === "configMap" ? source.value : undefined]).toEqual([variable, `http://${route.service}:${port}`]);
    }
  });
});

/** The routes of an HTTPRoute as infra/routes.json writes them. */
function routesOf(route: K8sObject) {
  return route.spec.rules.map((r: { matches: { path: { type: string; value: string } }[]; backendRefs: { name: string }[] }) => {
    expect(r.matches).toHaveLength(1);
    expect(r.matches[0].path.type).toBe("PathPrefix");
    expect(r.backendRefs).toHaveLength(1);
    return { prefix: r.matches[0].path.value, service: r.backendRefs[0].name };
  });
}

describe.each(overlays)("overlays/%s: routing through the Gateway API", (overlay) => {
  const objects = rendered[overlay];
  const gateway = find(objects, "Gateway", "ticketforge");
  const withBackends = ofKind(objects, "HTTPRoute").filter((r) =>
    r.spec.rules.some((rule: { backendRefs?: unknown[] }) => rule.backendRefs),
  );

  test("the HTTPRoute's routes are exactly infra/routes.json, for ticketforge.local", () => {
    expect(withBackends.map((r) => r.metadata.name)).toEqual(["ticketforge"]);
    const route = withBackends[0];
    expect(route.spec.hostnames).toEqual(["ticketforge.local"]);
    expect(routesOf(route)).toEqual(routes);
  });

  test("every backend is a Service port that exists, and the route is attached to a listener of the Gateway", () => {
    for (const route of withBackends) {
      for (const rule of route.spec.rules) {
        for (const ref of rule.backendRefs) {
          const svc = find(objects, "Service", ref.name);
          expect([ref.name, svc.spec.ports.some((p: { port: number }) => p.port === ref.port)]).toEqual([ref.name, true]);
        }
      }
      for (const parent of route.spec.parentRefs) {
        expect(parent.name).toBe(gateway.metadata.name);
        const listener = gateway.spec.listeners.find((l: { name: string }) => l.name === parent.sectionName);
        expect([parent.sectionName, listener?.hostname]).toEqual([parent.sectionName, "ticketforge.local"]);
      }
    }
  });

  // HSTS on every answer of the public origin over HTTPS (prod), never over plain HTTP (dev, and
  // prod's redirect), where browsers ignore it and a development host name would keep it.
  test(`${overlay === "prod" ? "every" : "no"} rule serving the public origin sets Strict-Transport-Security`, () => {
    const routesWithHeader = ofKind(objects, "HTTPRoute").flatMap((route) =>
      route.spec.rules.map((rule: { filters?: any[]; matches?: { path: { value: string } }[] }, i: number) => {
        const sts = (rule.filters ?? [])
          .filter((f) => f.type === "ResponseHeaderModifier")
          .flatMap((f) => [...(f.responseHeaderModifier.set ?? []), ...(f.responseHeaderModifier.add ?? [])])
          .filter((h: { name: string }) => h.name.toLowerCase() === "strict-transport-security")
          .map((h: { value: string }) => h.value);
        const listener = gateway.spec.listeners.find((l: { name: string }) => l.name === route.spec.parentRefs[0].sectionName);
        return { rule: `${route.metadata.name} ${rule.matches?.[0]?.path.value ?? `#${i}`}`, protocol: listener.protocol, sts };
      }),
    );
    const expected = (protocol: string) => (overlay === "prod" && protocol === "HTTPS" ? ["max-age=63072000; includeSubDomains"] : []);
    expect(routesWithHeader).toEqual(routesWithHeader.map((r) => ({ ...r, sts: expected(r.protocol) })));
    // every route of infra/routes.json is among them, over HTTPS in prod
    const served = routesWithHeader.filter((r) => r.rule.startsWith("ticketforge "));
    expect(served).toHaveLength(routes.length);
    if (overlay === "prod") for (const r of served) expect([r.rule, r.protocol]).toEqual([r.rule, "HTTPS"]);
  });

  test("no Ingress: ingress-nginx is opt-in", () => {
    expect(ofKind(objects, "Ingress")).toEqual([]);
  });

  test("the Gateway's class is the GatewayClass the README creates, and that one is valid", () => {
    const readme = fs.readFileSync(path.join(repoRoot, "infra/README.md"), "utf8");
    const classes = [...readme.matchAll(/<<'EOF'\n([\s\S]*?)\nEOF/g)]
      .map((m) => YAML.parse(m[1]))
      .filter((o) => o?.kind === "GatewayClass");
    expect(classes.map((c) => c.metadata.name)).toEqual([gateway.spec.gatewayClassName]);
    expect(validateObjects(classes)).toEqual([[]]);
  });
});

describe.each(ingressNginxOverlays)("overlays/%s: the opt-in ingress-nginx routing", (overlay) => {
  const objects = rendered[overlay];

  test("an Ingress for ingress-nginx with exactly the routes of infra/routes.json, and no Gateway API objects", () => {
    expect(ofKind(objects, "Gateway")).toEqual([]);
    expect(ofKind(objects, "HTTPRoute")).toEqual([]);
    const ingresses = ofKind(objects, "Ingress");
    expect(ingresses).toHaveLength(1);
    const ingress = ingresses[0];
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.spec.rules).toHaveLength(1);
    const rule = ingress.spec.rules[0];
    expect(rule.host).toBe("ticketforge.local");
    const paths = rule.http.paths.map((p: { path: string; pathType: string; backend: { service: { name: string } } }) => ({
      prefix: p.path,
      service: p.backend.service.name,
      pathType: p.pathType,
    }));
    expect(paths).toEqual(routes.map((r) => ({ ...r, pathType: "Prefix" })));
    for (const p of rule.http.paths) {
      const svc = find(objects, "Service", p.backend.service.name);
      const port = p.backend.service.port;
      const known = svc.spec.ports.some((sp: { name: string; port: number }) => sp.name === port.name || sp.port === port.number);
      expect([p.path, known]).toEqual([p.path, true]);
    }
  });

  test("it differs from its Gateway API overlay in routing only", () => {
    const base = rendered[overlay.replace("-ingress-nginx", "") as AnyOverlay];
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    const routing = new Set(["Gateway", "HTTPRoute", "Ingress"]);
    expect(
      objects
        .filter((o) => !routing.has(o.kind))
        .map(key)
        .sort(),
    ).toEqual(
      base
        .filter((o) => !routing.has(o.kind))
        .map(key)
        .sort(),
    );
  });

  test("only the ingress-nginx controller reaches the apps", () => {
    const pods = podsOf(objects);
    const controller = outsider("ingress-nginx controller", "ingress-nginx", {
      "app.kubernetes.io/name": "ingress-nginx",
      "app.kubernetes.io/component": "controller",
    });
    const envoy = outsider("Envoy proxy", "envoy-gateway-system", {
      "gateway.envoyproxy.io/owning-gateway-namespace": "ticketforge",
      "gateway.envoyproxy.io/owning-gateway-name": "ticketforge",
    });
    for (const app of apps) {
      const pod = pods.find((p) => p.name === app)!;
      expect([app, allowed(objects, controller, pod, "http")]).toEqual([app, true]);
      expect([app, allowed(objects, envoy, pod, "http")]).toEqual([app, false]);
    }
  });

  if (overlay.startsWith("prod")) {
    test("TLS at the Ingress with the same certificate as the Gateway", () => {
      expect(ofKind(objects, "Ingress")[0].spec.tls).toEqual([{ hosts: ["ticketforge.local"], secretName: "ticketforge-tls" }]);
    });
  }
});

describe.each(allOverlays)("overlays/%s: network policies", (overlay) => {
  const objects = rendered[overlay];
  const pods = podsOf(objects);
  const pod = (name: string) => pods.find((p) => p.name === name || p.name.startsWith(`${name} `))!;
  const nats = pod("nats");
  const postgres = pod("postgres");
  const elsewhere = outsider("a pod of another namespace", "other");
  const gatewayProxy = overlay.includes("ingress-nginx")
    ? outsider("ingress-nginx controller", "ingress-nginx", {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/component": "controller",
      })
    : outsider("Envoy proxy", "envoy-gateway-system", {
        "gateway.envoyproxy.io/owning-gateway-namespace": "ticketforge",
        "gateway.envoyproxy.io/owning-gateway-name": "ticketforge",
      });
  const sameNamespaceStranger: Pod = outsider("an unlabelled pod of the namespace", "ticketforge");

  test("the policies are what stands in the way: without them, anything would reach anything", () => {
    const open = objects.filter((o) => o.kind !== "NetworkPolicy");
    expect(allowed(open, elsewhere, postgres, 5432)).toBe(true);
    expect(allowed(open, elsewhere, nats, "monitor")).toBe(true);
    expect(allowed(objects, elsewhere, postgres, 5432)).toBe(false);
  });

  test("every pod of the namespace is covered by a default deny", () => {
    const deny = find(objects, "NetworkPolicy", "default-deny-ingress");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });

  test("only the services reach NATS's client port and PostgreSQL", () => {
    for (const s of services) {
      expect([s, "nats", allowed(objects, pod(s), nats, "client")]).toEqual([s, "nats", true]);
      expect([s, "postgres", allowed(objects, pod(s), postgres, 5432)]).toEqual([s, "postgres", true]);
    }
    for (const other of [pod("client"), gatewayProxy, elsewhere, sameNamespaceStranger]) {
      expect([other.name, "nats", allowed(objects, other, nats, "client")]).toEqual([other.name, "nats", false]);
      expect([other.name, "postgres", allowed(objects, other, postgres, 5432)]).toEqual([other.name, "postgres", false]);
    }
  });

  test("only the gateway reaches the apps, and the web app's server-side rendering the services", () => {
    for (const app of apps) {
      expect([app, allowed(objects, gatewayProxy, pod(app), "http")]).toEqual([app, true]);
      for (const other of [elsewhere, sameNamespaceStranger, nats]) {
        expect([app, other.name, allowed(objects, other, pod(app), "http")]).toEqual([app, other.name, false]);
      }
    }
    for (const s of services) expect([s, allowed(objects, pod("client"), pod(s), "http")]).toEqual([s, true]);
    expect(allowed(objects, pod("auth"), pod("orders"), "http")).toBe(false);
  });

  test("NATS's monitoring port admits only the metrics scraper (and the KEDA operator where KEDA scales)", () => {
    const scraper = outsider("Prometheus", "monitoring", { "app.kubernetes.io/name": "prometheus" });
    expect(allowed(objects, scraper, nats, "monitor")).toBe(true);
    expect(allowed(objects, scraper, nats, "client")).toBe(false);
    const strangers = [
      ...pods,
      elsewhere,
      gatewayProxy,
      sameNamespaceStranger,
      outsider("a pod called prometheus elsewhere", "other", { "app.kubernetes.io/name": "prometheus" }),
      outsider("another pod of the monitoring namespace", "monitoring"),
    ];
    for (const other of strangers) expect([other.name, allowed(objects, other, nats, "monitor")]).toEqual([other.name, false]);
    const keda = outsider("KEDA operator", "keda", { "app.kubernetes.io/name": "keda-operator" });
    const kedaScales = ofKind(objects, "ScaledObject").length > 0;
    expect(allowed(objects, keda, nats, "monitor")).toBe(kedaScales);
    expect(allowed(objects, keda, nats, "client")).toBe(false);
  });

  test("NATS's client port admits the services and the provisioning Jobs, its cluster port only the NATS nodes", () => {
    const jobs = ofKind(objects, "Job").map((j) => pod(j.metadata.name));
    expect(jobs.map((j) => j.name).sort()).toEqual(services.map((s) => `nats-provision-${s}`).sort());
    for (const client of [...services.map(pod), ...jobs]) {
      expect([client.name, allowed(objects, client, nats, "client")]).toEqual([client.name, true]);
      expect([client.name, allowed(objects, client, nats, "cluster")]).toEqual([client.name, false]);
    }
    for (const other of pods.filter((p) => !services.includes(p.name) && !jobs.includes(p))) {
      expect([other.name, allowed(objects, other, nats, "cluster")]).toEqual([other.name, other === nats]);
    }
  });

  test("every pod of the namespace is denied egress but for what a policy names", () => {
    const deny = find(objects, "NetworkPolicy", "default-deny-egress");
    expect(deny.spec.policyTypes).toEqual(["Egress"]);
    expect(deny.spec.egress).toBeUndefined();
    for (const p of [...pods, sameNamespaceStranger]) expect([p.name, egressRestricted(objects, p)]).toEqual([p.name, true]);
  });

  test("each workload reaches exactly what it needs: DNS, NATS, PostgreSQL; payments alone Stripe on 443, passes alone SMTP", () => {
    const dns = outsider("kube-dns", "kube-system", { "k8s-app": "kube-dns" });
    const hosts = [
      host("a public IPv4 address", "198.51.100.7"),
      host("a public IPv6 address", "2001:db8::7"),
      host("a private address", "10.0.0.5"),
      host("the cloud metadata endpoint", "169.254.169.254"),
    ];
    const hostPorts = [25, 80, 443, 465, 587, 5432, 6443];
    const destinations: [Pod, number, "TCP" | "UDP"][] = [
      [dns, 53, "UDP"],
      [dns, 53, "TCP"],
      ...pods.flatMap((p) => p.ports.map((port) => [p, port.containerPort, "TCP"] as [Pod, number, "TCP"])),
      ...hosts.flatMap((h) => hostPorts.map((port) => [h, port, "TCP"] as [Pod, number, "TCP"])),
    ];
    const reach = (from: Pod) =>
      destinations
        .filter(([to, port, protocol]) => allowed(objects, from, to, port, protocol))
        .map(([to, port, protocol]) => `${to.name}:${port}/${protocol}`);
    const publicHosts = hosts.slice(0, 2);
    const out = (...ports: number[]) => publicHosts.flatMap((h) => ports.map((port) => `${h.name}:${port}/TCP`));
    // Who leaves the cluster and why: payments for Stripe's API, passes for the mail relay (SMTP_URL).
    const leaves: Record<string, string[]> = { payments: out(443), passes: out(587, 465) };
    const base = ["kube-dns:53/UDP", "kube-dns:53/TCP"];
    const postgresName = postgres.name;
    const expected = (p: Pod): string[] => {
      if (services.includes(p.name)) return [...base, "nats:4222/TCP", `${postgresName}:5432/TCP`, ...(leaves[p.name] ?? [])];
      if (p.name === "client") return [...base, ...services.map((s) => `${s}:${serviceEntry(s).port}/TCP`)];
      if (p === nats) return [...base, "nats:6222/TCP"];
      if (p.labels["app.kubernetes.io/component"] === "nats-provisioner") return [...base, "nats:4222/TCP"];
      // the instance manager's API server calls and the backups to the object store
      if (p === postgres)
        return [
          ...base,
          `${postgresName}:5432/TCP`,
          `${postgresName}:8000/TCP`,
          ...hosts.flatMap((h) => [443, 6443].map((port) => `${h.name}:${port}/TCP`)),
        ];
      throw new Error(`no expectation for ${p.name}`);
    };
    for (const p of pods) expect([p.name, reach(p).sort()]).toEqual([p.name, expected(p).sort()]);
    for (const s of services.filter((name) => !leaves[name])) expect(reach(pod(s)).filter((d) => d.includes("public"))).toEqual([]);
  });

  test("the NATS nodes reach each other's cluster port, the PostgreSQL instances each other and the operator them", () => {
    expect(allowed(objects, nats, nats, "cluster")).toBe(true);
    expect(allowed(objects, pod("orders"), nats, "cluster")).toBe(false);
    expect(allowed(objects, postgres, postgres, 5432)).toBe(true);
    const operator = outsider("CloudNativePG operator", "cnpg-system", { "app.kubernetes.io/name": "cloudnative-pg" });
    expect(allowed(objects, operator, postgres, 8000)).toBe(true);
    expect(allowed(objects, operator, postgres, 5432)).toBe(true);
    expect(allowed(objects, elsewhere, postgres, 8000)).toBe(false);
  });
});

describe("overlays/dev", () => {
  const objects = rendered.dev;

  test("one replica of everything, a single NATS node and a single small PostgreSQL instance", () => {
    for (const w of workloads(objects)) expect([label(w), w.spec.replicas]).toEqual([label(w), 1]);
    const conf: string = Object.values<string>(
      ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("nats-config"))!.data,
    )[0];
    expect(conf).not.toMatch(/cluster\s*\{/);
    const cluster = find(objects, "Cluster", "postgres");
    expect(cluster.spec.instances).toBe(1);
    expect(quantity(cluster.spec.storage.size)).toBeLessThanOrEqual(quantity("2Gi"));
    expect(quantity(cluster.spec.resources.requests.memory)).toBeLessThanOrEqual(quantity("256Mi"));
  });

  test("streams are created with one replica, matching the single node", () => {
    const cm = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config"))!;
    expect(cm.data.NATS_STREAM_REPLICAS).toBe("1");
  });

  test("the streams' volume is deleted with NATS, as the database's is with its Cluster: no stream outlives its database", () => {
    expect(find(objects, "StatefulSet", "nats").spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: "Delete",
      whenScaled: "Retain",
    });
    expect(find(rendered.prod, "StatefulSet", "nats").spec.persistentVolumeClaimRetentionPolicy).toBeUndefined();
  });

  test("no autoscalers, no disruption budgets, no backups: a laptop needs no KEDA and no object storage", () => {
    for (const kind of ["HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget", "ObjectStore", "ScheduledBackup"]) {
      expect([kind, ofKind(objects, kind)]).toEqual([kind, []]);
    }
    expect(find(objects, "Cluster", "postgres").spec.plugins).toBeUndefined();
  });

  test("plain HTTP on port 80", () => {
    const gateway = find(objects, "Gateway", "ticketforge");
    expect(gateway.spec.listeners.map((l: { name: string; protocol: string; port: number }) => [l.name, l.protocol, l.port])).toEqual([
      ["http", "HTTP", 80],
    ]);
  });
});

/** What each consuming service listens to, from services.json (checked against its listeners by scripts/test/services-manifest.test.ts). */
const listenedTo = (service: string): readonly string[] => serviceEntry(service).consumes;

describe("overlays/prod", () => {
  const objects = rendered.prod;
  const deployments = ofKind(objects, "Deployment");
  const consuming = services.filter((s) => listenedTo(s).length > 0);
  const httpOnly = apps.filter((a) => !(consuming as string[]).includes(a));

  test("the services that consume events and those that only answer HTTP are the expected ones", () => {
    expect([...consuming].sort()).toEqual(["expiration", "orders", "passes", "payments", "tickets"]);
    expect([...httpOnly].sort()).toEqual(["auth", "client"]);
  });

  test("at least two replicas of every Deployment, spread over nodes", () => {
    for (const d of deployments) {
      expect([label(d), d.spec.replicas >= 2]).toEqual([label(d), true]);
      expect([label(d), podSpec(d).topologySpreadConstraints?.length ?? 0]).toEqual([label(d), 1]);
    }
  });

  test.each(consuming)("%s: a KEDA ScaledObject on the backlog of each of its durable consumers, plus CPU", (service) => {
    const scaled = find(objects, "ScaledObject", service);
    expect(scaled.spec.scaleTargetRef).toEqual({ name: service });
    const jetstream = scaled.spec.triggers.filter((t: { type: string }) => t.type === "nats-jetstream");
    const expected = listenedTo(service).map((subject) => ({
      stream: streamOf(subject),
      consumer: durableName(service, subject as Subject),
    }));
    expect(
      jetstream.map((t: { metadata: { stream: string; consumer: string } }) => ({
        stream: t.metadata.stream,
        consumer: t.metadata.consumer,
      })),
    ).toEqual(expected);
    for (const t of jetstream) {
      // Every node of the JetStream cluster, through the headless Service of the NATS StatefulSet.
      const nats = find(objects, "StatefulSet", "nats");
      const monitorPort = podSpec(nats).containers[0].ports.find((p: { name: string }) => p.name === "monitor").containerPort;
      expect(t.metadata.natsServerMonitoringEndpoint).toBe(`${nats.spec.serviceName}.ticketforge.svc.cluster.local:${monitorPort}`);
      expect(t.metadata.account).toBe("$G");
      expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
    }
    const cpu = scaled.spec.triggers.filter((t: { type: string }) => t.type === "cpu");
    expect(cpu).toEqual([{ type: "cpu", metricType: "Utilization", metadata: { value: expect.stringMatching(/^\d+$/) } }]);
    expect(scaled.spec.triggers).toHaveLength(jetstream.length + 1);
  });

  test("the HTTP-only apps keep a CPU autoscaler; no Deployment has two autoscalers", () => {
    const hpas = ofKind(objects, "HorizontalPodAutoscaler");
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([...httpOnly].sort());
    for (const h of hpas) {
      expect(h.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: h.metadata.name });
      expect(h.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name)).toEqual(["cpu"]);
    }
    const scaledTargets = ofKind(objects, "ScaledObject").map((s) => s.spec.scaleTargetRef.name);
    expect(scaledTargets.sort()).toEqual([...consuming].sort());
    expect(scaledTargets.filter((t) => hpas.some((h) => h.spec.scaleTargetRef.name === t))).toEqual([]);
  });

  test("sane bounds and disruption budgets below every minimum, so that a node drain never blocks", () => {
    for (const d of deployments) {
      const name = d.metadata.name;
      const scaled = ofKind(objects, "ScaledObject").find((s) => s.metadata.name === name);
      const hpa = ofKind(objects, "HorizontalPodAutoscaler").find((h) => h.metadata.name === name);
      const [min, max] = scaled
        ? [scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount]
        : [hpa!.spec.minReplicas, hpa!.spec.maxReplicas];
      expect([name, min >= 2, max > min, max <= 20, min <= d.spec.replicas]).toEqual([name, true, true, true, true]);
      const pdb = find(objects, "PodDisruptionBudget", name);
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      expect([name, pdb.spec.minAvailable < min]).toEqual([name, true]);
    }
  });

  test("a three-node NATS JetStream cluster with a quorum-keeping budget", () => {
    const nats = find(objects, "StatefulSet", "nats");
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.podManagementPolicy).toBe("Parallel");
    const conf: string = Object.values<string>(
      find(objects, "ConfigMap", podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name).data,
    )[0];
    const natsRoutes = [...conf.matchAll(/nats:\/\/(nats-\d)\.nats-headless:6222/g)].map((m) => m[1]);
    expect(natsRoutes).toEqual(["nats-0", "nats-1", "nats-2"]);
    const headless = find(objects, "Service", nats.spec.serviceName);
    expect(headless.spec.clusterIP).toBe("None");
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(find(objects, "PodDisruptionBudget", "nats").spec.maxUnavailable).toBe(1);
  });

  test("streams are replicated three times", () => {
    const cm = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config"))!;
    expect(cm.data.NATS_STREAM_REPLICAS).toBe("3");
  });

  test("PostgreSQL: three instances on different nodes, WAL archived to the backup store, nightly base backups", () => {
    const cluster = find(objects, "Cluster", "postgres");
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.affinity).toMatchObject({ enablePodAntiAffinity: true, topologyKey: "kubernetes.io/hostname" });
    const store = find(objects, "ObjectStore", "postgres-backups");
    expect(cluster.spec.plugins).toEqual([
      { name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: store.metadata.name } },
    ]);
    expect(store.spec.configuration.destinationPath).toMatch(/^s3:\/\/[a-z0-9.-]+\//);
    expect(store.spec.retentionPolicy).toMatch(/^\d+[dwm]$/);
    const credentials = store.spec.configuration.s3Credentials;
    expect(credentials.accessKeyId.name).toBe(credentials.secretAccessKey.name);
    const backups = ofKind(objects, "ScheduledBackup");
    expect(backups.map((b) => b.spec)).toEqual([
      expect.objectContaining({
        cluster: { name: "postgres" },
        method: "plugin",
        pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
      }),
    ]);
    // Six fields, seconds first (the operator's cron format): once a day.
    expect(backups[0].spec.schedule.split(" ")).toHaveLength(6);
  });

  test("root filesystems are read-only, and the session cookie is Secure behind TLS at the Gateway", () => {
    for (const w of workloads(objects)) {
      for (const c of allContainers(w)) expect([label(w), c.securityContext.readOnlyRootFilesystem]).toEqual([label(w), true]);
    }
    const cm = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config"))!;
    expect(cm.data.COOKIE_SECURE).toBe("true");
    const gateway = find(objects, "Gateway", "ticketforge");
    const https = gateway.spec.listeners.find((l: { protocol: string }) => l.protocol === "HTTPS");
    expect(https).toMatchObject({
      port: 443,
      hostname: "ticketforge.local",
      tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "ticketforge-tls" }] },
    });
    // The application routes are served over HTTPS only; plain HTTP answers with a redirect.
    expect(find(objects, "HTTPRoute", "ticketforge").spec.parentRefs).toEqual([{ name: "ticketforge", sectionName: https.name }]);
    const redirect = find(objects, "HTTPRoute", "ticketforge-https-redirect");
    expect(redirect.spec.parentRefs).toEqual([{ name: "ticketforge", sectionName: "http" }]);
    expect(redirect.spec.rules).toEqual([
      { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ]);
  });
});
