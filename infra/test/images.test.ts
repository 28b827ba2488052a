import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { allContainers, apps, overlays, podSpec, readRepoFile, renderOverlay, repoRoot, services, workloads } from "./support/k8s";

/** Our images are `ticketforge/<folder>`; a registry prefix and a tag may be added at deploy time. */
const ownImage = /^(?:.+\/)?ticketforge\/([a-z0-9-]+)(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$/;

const dockerfileDirs = fs
  .readdirSync(repoRoot, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== "node_modules" && fs.existsSync(path.join(repoRoot, e.name, "Dockerfile")))
  .map((e) => e.name)
  .sort();

const workspaces: string[] = JSON.parse(readRepoFile("package.json")).workspaces;

interface Instruction {
  op: string;
  args: string;
  stage: string;
}

/** Dockerfile instructions with continuation lines joined, each tagged with its stage's name. */
function parseDockerfile(text: string): { instructions: Instruction[]; stages: string[] } {
  const joined = text.replace(/\\\n/g, " ");
  const instructions: Instruction[] = [];
  const stages: string[] = [];
  let stage = "";
  for (const raw of joined.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    if (op === "FROM") {
      stage = /\sAS\s+(\S+)/i.exec(m[2])?.[1] ?? `#${stages.length}`;
      stages.push(stage);
    }
    instructions.push({ op, args: m[2], stage });
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

describe("images and Dockerfiles", () => {
  test("there is a Dockerfile for every service and the client, and no other", () => {
    expect(dockerfileDirs).toEqual([...apps].sort());
  });

  test.each(overlays)("overlays/%s: every image we build has a Dockerfile, and every Dockerfile an image", (overlay) => {
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
    expect([...ours].sort()).toEqual(dockerfileDirs);
  });

  describe.each(apps)("%s/Dockerfile", (app) => {
    const { instructions, stages } = parseDockerfile(readRepoFile(`${app}/Dockerfile`));
    const final = stages[stages.length - 1];
    const inFinal = instructions.filter((i) => i.stage === final);

    test("is multi-stage, with a small Node 20 base image and the production image last", () => {
      expect(stages.length).toBeGreaterThanOrEqual(3);
      expect(final).toBe("runtime");
      expect(stages).toContain("dev");
      const bases = instructions.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0]);
      const arg = instructions.find((i) => i.op === "ARG" && i.args.startsWith("NODE_IMAGE="));
      expect(arg?.args).toMatch(/^NODE_IMAGE=node:20(\.[\d.]+)?-(alpine|bookworm-slim)$/);
      for (const base of bases) expect(["${NODE_IMAGE}", ...stages]).toContain(base);
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

    test("reads from the build context only files that .dockerignore lets through", () => {
      const ignored = dockerignore(readRepoFile(".dockerignore"));
      for (const source of contextCopies(instructions)) {
        expect([source, fs.existsSync(path.join(repoRoot, source)) || source.endsWith("/")]).toEqual([source, true]);
        expect([source, ignored(source.replace(/\/$/, ""))]).toEqual([source, false]);
      }
    });

    test("EXPOSEs the port its Deployment uses", () => {
      const objects = renderOverlay("dev");
      const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === app)!;
      const port = podSpec(deployment).containers[0].ports[0].containerPort;
      expect(inFinal.filter((i) => i.op === "EXPOSE").map((i) => i.args)).toEqual([String(port)]);
    });

    if ((services as readonly string[]).includes(app)) {
      test("bundles with infra/docker/build.mjs and ships production dependencies only", () => {
        const build = instructions.filter((i) => i.op === "RUN" && i.stage === "build").map((i) => i.args);
        expect(build).toContain(`node infra/docker/build.mjs ${app}`);
        const install = inFinal.filter((i) => i.op === "RUN").map((i) => i.args);
        expect(install.join("\n")).toMatch(new RegExp(`npm ci --omit=dev --workspace @ticketforge/${app}\\b`));
        for (const ws of workspaces) expect(contextCopies(inFinal)).toContain(`${ws}/package.json`);
        expect(inFinal.find((i) => i.op === "CMD")?.args).toMatch(/^\["node",.*"dist\/main\.js"\]$/);
      });
    } else {
      test("ships the Next.js standalone server, which needs no npm install", () => {
        expect(inFinal.filter((i) => i.op === "RUN")).toEqual([]);
        expect(inFinal.find((i) => i.op === "CMD")?.args).toBe('["node", "client/server.js"]');
      });
    }
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
      "orders/test/orders.test.ts",
    ]) {
      expect([file, ignored(file)]).toEqual([file, true]);
    }
    for (const file of ["infra/docker/build.mjs", "common/src/db/migrations/001_outbox_inbox.sql", "common/src/testing/index.ts"]) {
      expect([file, ignored(file)]).toEqual([file, false]);
    }
  });
});

describe("skaffold.yaml", () => {
  const config = YAML.parse(readRepoFile("skaffold.yaml"));

  test("builds every image from its Dockerfile's dev target, with the repository root as context", () => {
    const artifacts: { image: string; context: string; docker: { dockerfile: string; target?: string } }[] = config.build.artifacts;
    expect(artifacts.map((a) => a.image).sort()).toEqual(dockerfileDirs.map((d) => `ticketforge/${d}`));
    for (const a of artifacts) {
      const dir = a.image.replace("ticketforge/", "");
      expect(a.context).toBe(".");
      expect(a.docker.dockerfile).toBe(`${dir}/Dockerfile`);
      expect(a.docker.target).toBe("dev");
      expect(parseDockerfile(readRepoFile(a.docker.dockerfile)).stages).toContain(a.docker.target);
    }
  });

  test("deploys overlays/dev, and the prod profile the production images with overlays/prod", () => {
    expect(config.manifests.kustomize.paths).toEqual(["infra/k8s/overlays/dev"]);
    const prod = config.profiles.find((p: { name: string }) => p.name === "prod");
    expect(prod.manifests.kustomize.paths).toEqual(["infra/k8s/overlays/prod"]);
    const artifacts: { image: string; docker: { dockerfile: string; target?: string }; sync?: unknown }[] = prod.build.artifacts;
    expect(artifacts.map((a) => a.image).sort()).toEqual(dockerfileDirs.map((d) => `ticketforge/${d}`));
    for (const a of artifacts) {
      expect([a.image, a.docker.target, a.sync]).toEqual([a.image, undefined, undefined]);
    }
  });

  test("syncs each image's sources to where its dev stage keeps them, for hot reload", () => {
    const ignored = dockerignore(readRepoFile(".dockerignore"));
    for (const a of config.build.artifacts as { image: string; docker: { dockerfile: string }; sync: { manual: { src: string; dest: string }[] } }[]) {
      const dir = a.image.replace("ticketforge/", "");
      const rules = a.sync.manual;
      expect(rules.length).toBeGreaterThan(0);
      const dev = parseDockerfile(readRepoFile(a.docker.dockerfile)).instructions.filter((i) => i.stage === "dev");
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
});
