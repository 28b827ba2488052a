// The files that cannot read services.json (YAML workflows, Kubernetes manifests, .env.example,
// the root package.json and tsconfig.json) checked against it: each failure names what is missing,
// which is the checklist of docs/add-a-service.md. (Deployments, Secrets, database roles, NATS
// passwords, provisioning Jobs and images are checked against the same list by manifests.test.ts,
// servers-config.test.ts and images.test.ts.)
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { manifest } from "../../scripts/services";
import { readRepoFile, repoRoot } from "./support/k8s";
import { readWorkflow } from "./support/workflows";

const exists = (rel: string) => fs.existsSync(path.join(repoRoot, rel));
const kustomization = YAML.parse(readRepoFile("infra/k8s/base/kustomization.yaml")) as {
  resources: string[];
  configMapGenerator: { name: string; literals?: string[] }[];
};
const literalsOf = (configMap: string) => kustomization.configMapGenerator.find((c) => c.name === configMap)?.literals ?? [];
const envExample = readRepoFile(".env.example");
const rootPackage = JSON.parse(readRepoFile("package.json")) as { workspaces: string[] };
const tsconfigInclude = (JSON.parse(readRepoFile("tsconfig.json")) as { include: string[] }).include;
const apps = [...manifest.services, manifest.client];

describe.each(apps.map((a) => [a.name, a] as const))("services.json lists %s", (name, app) => {
  const variable = name.toUpperCase().replace(/[^A-Z0-9]/g, "_");

  test("When its tests are to run on GitHub, then its workflow exists and calls the shared service job for it", () => {
    const file = `.github/workflows/${name}.yml`;
    if (!exists(file)) throw new Error(`services.json lists ${name} but ${file} is missing`);
    const jobs = Object.values(readWorkflow(path.join(repoRoot, file)).jobs);
    expect({ file, calls: jobs.some((j) => j.uses === "./.github/workflows/service-tests.yml" && j.with?.service === name) }).toEqual({
      file,
      calls: true,
    });
  });

  test("When it is deployed, then infra/k8s/base has its manifest, listed in the kustomization, and its ConfigMap sets its port", () => {
    const missing: string[] = [];
    if (!exists(`infra/k8s/base/${name}.yaml`)) missing.push(`infra/k8s/base/${name}.yaml is missing`);
    if (!kustomization.resources.includes(`${name}.yaml`))
      missing.push(`infra/k8s/base/kustomization.yaml does not list ${name}.yaml in resources`);
    if (!literalsOf(`${name}-config`).includes(`PORT=${app.port}`))
      missing.push(`infra/k8s/base/kustomization.yaml: ${name}-config does not set PORT=${app.port}`);
    expect(missing).toEqual([]);
  });

  test("When a developer reads .env.example, then it names its port with services.json's default", () => {
    const line = `${variable}_PORT=${app.port}`;
    expect(envExample.includes(`\n${line}\n`) ? [] : [`.env.example has no line ${line}`]).toEqual([]);
  });

  test("When npm installs and tsc checks the repository, then its folder is a workspace and its sources are type-checked", () => {
    const missing: string[] = [];
    if (!rootPackage.workspaces.includes(app.folder)) missing.push(`package.json's workspaces do not list ${app.folder}`);
    if (app !== manifest.client) {
      for (const dir of ["src", "test"])
        if (!tsconfigInclude.includes(`${app.folder}/${dir}`)) missing.push(`tsconfig.json does not include ${app.folder}/${dir}`);
    }
    expect(missing).toEqual([]);
  });
});

describe.each(manifest.services.map((s) => [s.name, s] as const))("services.json lists the service %s", (name, service) => {
  const variable = name.toUpperCase().replace(/[^A-Z0-9]/g, "_");

  test("When a developer reads .env.example, then it names its own database variable", () => {
    const line = `# ${variable}_DATABASE_URL=`;
    expect(envExample.includes(`\n${line}`) ? [] : [`.env.example has no line ${line}…`]).toEqual([]);
  });

  test("When the web app calls it directly in Kubernetes, then it uses services.json's port", () => {
    const url = literalsOf("client-config").find((l) => l.startsWith(`${variable}_URL=`));
    if (url) expect(url).toBe(`${variable}_URL=http://${name}:${service.port}`);
  });
});

describe("services.json and the shared files", () => {
  test("When a developer reads .env.example, then the gateway's port is services.json's", () => {
    expect(envExample).toContain(`\nGATEWAY_PORT=${manifest.gateway.port}\n`);
  });

  test("When the route table names an app, then services.json lists it", () => {
    const routes = (JSON.parse(readRepoFile("infra/routes.json")) as { routes: { service: string }[] }).routes;
    const names = apps.map((a) => a.name);
    expect(routes.map((r) => r.service).filter((s) => !names.includes(s))).toEqual([]);
  });

  test("When a Kubernetes manifest in infra/k8s/base is named after an app, then services.json lists that app", () => {
    const infrastructure = new Set(["gateway", "nats", "nats-provision", "postgres", "network-policies"]);
    const named = kustomization.resources.map((r) => r.replace(/\.yaml$/, "")).filter((r) => !infrastructure.has(r));
    expect(named.filter((r) => !apps.some((a) => a.name === r)).map((r) => `infra/k8s/base/${r}.yaml is not in services.json`)).toEqual([]);
  });
});
