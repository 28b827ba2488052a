import fs from "node:fs";
import path from "node:path";
import {
  allContainers,
  apps,
  environment,
  find,
  k8sDir,
  label,
  ofKind,
  overlays,
  podSpec,
  quantity,
  render,
  renderOverlay,
  repoRoot,
  secretName,
  validateObjects,
  workloads,
  type K8sObject,
} from "./support/k8s";

const rendered = Object.fromEntries(overlays.map((o) => [o, renderOverlay(o)])) as Record<
  (typeof overlays)[number],
  K8sObject[]
>;

describe("rendering", () => {
  test.each(overlays)("overlays/%s renders with kubectl kustomize", (overlay) => {
    expect(rendered[overlay].length).toBeGreaterThan(0);
  });

  test("the base renders on its own too", () => {
    expect(render("base").length).toBeGreaterThan(0);
  });

  test.each(overlays)("overlays/%s: every object lives in the ticketforge namespace", (overlay) => {
    for (const o of rendered[overlay]) expect([label(o), o.metadata.namespace]).toEqual([label(o), "ticketforge"]);
  });
});

describe("schemas", () => {
  test.each(overlays)("overlays/%s: every object is valid and has no unknown field", (overlay) => {
    const problems = validateObjects(rendered[overlay]);
    const report = rendered[overlay].flatMap((o, i) => problems[i].map((p) => `${label(o)} ${p}`));
    expect(report).toEqual([]);
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
        for (const [name, source] of environment(c, objects)) {
          if (!secretish.test(name) || publicByDesign.test(name)) continue;
          expect([label(w), name, source.from]).toEqual([label(w), name, "secret"]);
          if (source.from === "secret") expect([label(w), name, source.name]).toEqual([label(w), name, secretName]);
        }
      }
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

  test("NATS and PostgreSQL are StatefulSets keeping their data on persistent volumes", () => {
    for (const name of ["nats", "postgres"]) {
      const sts = find(objects, "StatefulSet", name);
      const claims = (sts.spec.volumeClaimTemplates ?? []).map((t: K8sObject) => t.metadata.name);
      const mounts = allContainers(sts).flatMap((c) => (c.volumeMounts ?? []).map((m: { name: string }) => m.name));
      expect([name, claims]).toEqual([name, ["data"]]);
      expect([name, mounts.includes("data")]).toEqual([name, true]);
      // The governing Service must exist for the pods' stable DNS names.
      expect(() => find(objects, "Service", sts.spec.serviceName)).not.toThrow();
    }
  });

  test("NATS runs with JetStream enabled and its store on the volume", () => {
    const nats = find(objects, "StatefulSet", "nats");
    const configMap = podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name;
    const conf: string = find(objects, "ConfigMap", configMap).data["nats.conf"];
    expect(conf).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data/);
    const mount = podSpec(nats).containers[0].volumeMounts.find((m: { name: string }) => m.name === "data");
    expect(mount.mountPath).toBe("/data");
  });

  test("PostgreSQL creates one database per service from the services' own DATABASE_URLs", () => {
    const pg = find(objects, "StatefulSet", "postgres");
    const env = environment(podSpec(pg).containers[0], objects);
    const initVolume = podSpec(pg).volumes.find((v: { name: string }) => v.name === "init");
    const script = Object.values<string>(find(objects, "ConfigMap", initVolume.configMap.name).data)[0];
    for (const d of deployments.filter((x) => x.metadata.name !== "client")) {
      const url = environment(podSpec(d).containers[0], objects).get("DATABASE_URL");
      expect([label(d), url?.from]).toEqual([label(d), "secret"]);
      if (url?.from !== "secret") continue;
      // The init step reads the very Secret key the service connects with.
      const pgSide = env.get(url.key);
      expect([url.key, pgSide]).toEqual([url.key, { from: "secret", name: secretName, key: url.key, optional: false }]);
      expect([url.key, script.includes(url.key)]).toEqual([url.key, true]);
    }
  });

  test("server-side rendering reaches every API prefix directly, at its Service's port", () => {
    const routes: { prefix: string; service: string }[] = JSON.parse(fs.readFileSync(path.join(repoRoot, "infra/routes.json"), "utf8")).routes;
    const client = find(objects, "Deployment", "client");
    const env = environment(podSpec(client).containers[0], objects);
    const overrides: Record<string, string> = {
      "/api/users": "AUTH_URL",
      "/api/tickets": "TICKETS_URL",
      "/api/orders": "ORDERS_URL",
      "/api/payments": "PAYMENTS_URL",
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

describe("ingress", () => {
  const routes: { prefix: string; service: string }[] = JSON.parse(fs.readFileSync(path.join(repoRoot, "infra/routes.json"), "utf8")).routes;

  test.each(overlays)("overlays/%s: the Ingress routes are exactly infra/routes.json", (overlay) => {
    const objects = rendered[overlay];
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
});

describe("overlays/dev", () => {
  const objects = rendered.dev;

  test("one replica of everything and a single NATS node", () => {
    for (const w of workloads(objects)) expect([label(w), w.spec.replicas]).toEqual([label(w), 1]);
    const conf: string = Object.values<string>(ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("nats-config"))!.data)[0];
    expect(conf).not.toMatch(/cluster\s*\{/);
  });

  test("streams are created with one replica, matching the single node", () => {
    const cm = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config"))!;
    expect(cm.data.NATS_STREAM_REPLICAS).toBe("1");
  });

  test("no autoscalers and no disruption budgets", () => {
    expect(ofKind(objects, "HorizontalPodAutoscaler")).toEqual([]);
    expect(ofKind(objects, "PodDisruptionBudget")).toEqual([]);
  });
});

describe("overlays/prod", () => {
  const objects = rendered.prod;
  const deployments = ofKind(objects, "Deployment");

  test("at least two replicas of every Deployment, spread over nodes", () => {
    for (const d of deployments) {
      expect([label(d), d.spec.replicas >= 2]).toEqual([label(d), true]);
      expect([label(d), podSpec(d).topologySpreadConstraints?.length ?? 0]).toEqual([label(d), 1]);
    }
  });

  test("an autoscaler and a disruption budget for every Deployment", () => {
    for (const d of deployments) {
      const hpa = find(objects, "HorizontalPodAutoscaler", d.metadata.name);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name });
      expect([label(d), hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas]).toEqual([label(d), true]);
      expect([label(d), hpa.spec.minReplicas <= d.spec.replicas]).toEqual([label(d), true]);
      const pdb = find(objects, "PodDisruptionBudget", d.metadata.name);
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      expect([label(d), pdb.spec.minAvailable < d.spec.replicas]).toEqual([label(d), true]);
    }
  });

  test("a three-node NATS JetStream cluster with a quorum-keeping budget", () => {
    const nats = find(objects, "StatefulSet", "nats");
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.podManagementPolicy).toBe("Parallel");
    const conf: string = Object.values<string>(
      find(objects, "ConfigMap", podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name).data,
    )[0];
    const routes = [...conf.matchAll(/nats:\/\/(nats-\d)\.nats-headless:6222/g)].map((m) => m[1]);
    expect(routes).toEqual(["nats-0", "nats-1", "nats-2"]);
    const headless = find(objects, "Service", nats.spec.serviceName);
    expect(headless.spec.clusterIP).toBe("None");
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(find(objects, "PodDisruptionBudget", "nats").spec.maxUnavailable).toBe(1);
  });

  test("streams are replicated three times", () => {
    const cm = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config"))!;
    expect(cm.data.NATS_STREAM_REPLICAS).toBe("3");
  });

  test("root filesystems are read-only, and the session cookie is Secure behind TLS", () => {
    for (const w of workloads(objects)) {
      for (const c of allContainers(w)) expect([label(w), c.securityContext.readOnlyRootFilesystem]).toEqual([label(w), true]);
    }
    const cm = ofKind(objects, "ConfigMap").find((c) => c.metadata.name.startsWith("ticketforge-config"))!;
    expect(cm.data.COOKIE_SECURE).toBe("true");
    const ingress = ofKind(objects, "Ingress")[0];
    expect(ingress.spec.tls).toEqual([{ hosts: ["ticketforge.local"], secretName: "ticketforge-tls" }]);
  });
});
