// What the GitHub Actions workflows are checked against: the files a service's suites load
// (followed import by import, across workspaces) and GitHub's path-filter globs.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const CODE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const TEST_FILE = /\.test\.[cm]?[jt]sx?$/;
const SKIPPED_DIRS = new Set(["node_modules", ".next", "dist", "artifacts", ".data"]);
const EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json"];

// `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`, `require("x")`,
// `jest.mock("x")`: the module specifiers a file loads. A commented-out import counts too,
// which only ever asks for a wider filter.
const SPECIFIER =
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']|\b(?:require|import|jest\.mock|jest\.requireActual)\s*\(\s*["']([^"']+)["']\s*[,)]/g;

export function specifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]);
}

interface Workspace {
  dir: string;
  pkg: { name: string; main?: string; exports?: unknown; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
}

/** The root package.json's workspaces by package name. */
export function workspaces(root: string): Map<string, Workspace> {
  const rootPkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const map = new Map<string, Workspace>();
  for (const dir of rootPkg.workspaces ?? []) {
    const file = path.join(root, dir, "package.json");
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    map.set(pkg.name, { dir: path.join(root, dir), pkg });
  }
  return map;
}

const posix = (root: string, abs: string) => path.relative(root, abs).split(path.sep).join("/");

function resolveFile(abs: string): string | undefined {
  const stem = abs.replace(/\.[cm]?js$/, "");
  const candidates = [abs, ...EXTENSIONS.map((e) => stem + e), ...EXTENSIONS.map((e) => path.join(abs, `index${e}`))];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

function exportTarget(exportsField: unknown, key: string): string | undefined {
  const entry = exportsField && typeof exportsField === "object" ? (exportsField as Record<string, unknown>)[key] : undefined;
  if (typeof entry === "string") return entry;
  if (entry && typeof entry === "object") return Object.values(entry).find((v): v is string => typeof v === "string");
  return undefined;
}

/** Code files under `dir`, build output and dependencies left out. */
export function codeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...codeFiles(full));
    else if (CODE.test(entry.name)) out.push(full);
  }
  return out;
}

/** `<rootDir>/…` set-up files named in a Jest config (global set-up, per-file set-up). */
function jestHookFiles(configFile: string, rootDir: string): string[] {
  if (!fs.existsSync(configFile)) return [];
  const config = require(configFile);
  const named = [config.globalSetup, config.globalTeardown, ...(config.setupFiles ?? []), ...(config.setupFilesAfterEnv ?? [])];
  return named
    .filter((f): f is string => typeof f === "string")
    .map((f) => resolveFile(path.resolve(rootDir, f.replace("<rootDir>", rootDir))))
    .filter((f): f is string => f !== undefined);
}

/**
 * Every repository file that running `folder`'s Jest project loads: its code and the suites the
 * job runs (test files matching `skip` are left out, as `--testPathIgnorePatterns` does), the
 * root test runner and Jest configs, then every file they import, transitively, including
 * `@ticketforge/*` workspaces (through their package.json `exports`/`main`, and their own
 * `@ticketforge/*` dependencies). Packages from node_modules are the lockfile's business.
 * Repository-relative paths.
 */
export function filesLoadedBySuites(root: string, folder: string, skip?: RegExp): Set<string> {
  const ws = workspaces(root);
  const dir = path.join(root, folder);
  const starts = codeFiles(dir).filter((f) => {
    const rel = posix(dir, f);
    const isTest = TEST_FILE.test(rel);
    const inTestDir = /(?:^|\/)(?:test|__tests__)\//.test(rel);
    if (isTest) return !skip?.test(f);
    return !inTestDir; // helpers under test/ count only when a suite imports them
  });
  for (const runner of ["jest.config.js", "jest.preset.js", "scripts/test.mjs"]) {
    const file = path.join(root, runner);
    if (fs.existsSync(file)) starts.push(file);
  }
  starts.push(...jestHookFiles(path.join(root, "jest.config.js"), root), ...jestHookFiles(path.join(dir, "jest.config.js"), dir));

  const seen = new Set<string>();
  const seenWorkspaces = new Set<string>();
  const queue = [...starts];
  const enterWorkspace = (name: string) => {
    const w = ws.get(name);
    if (!w || seenWorkspaces.has(name)) return;
    seenWorkspaces.add(name);
    queue.push(path.join(w.dir, "package.json"));
    const main = resolveFile(path.join(w.dir, exportTarget(w.pkg.exports, ".") ?? w.pkg.main ?? "index.js"));
    if (main) queue.push(main);
    for (const dep of Object.keys({ ...w.pkg.dependencies, ...w.pkg.devDependencies })) enterWorkspace(dep);
  };
  // The folder's own dependencies count even before a file imports them.
  const own = [...ws.values()].find((w) => path.resolve(w.dir) === path.resolve(dir));
  if (own) enterWorkspace(own.pkg.name);

  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!CODE.test(file)) continue;
    for (const spec of specifiers(fs.readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        // An import that resolves to nothing (a specifier in a string, say) loads nothing.
        const resolved = resolveFile(path.resolve(path.dirname(file), spec));
        if (resolved) queue.push(resolved);
        continue;
      }
      const m = /^(@ticketforge\/[^/]+)(?:\/(.+))?$/.exec(spec);
      if (!m) continue;
      const w = ws.get(m[1]);
      if (!w) continue;
      enterWorkspace(m[1]);
      if (m[2]) {
        const target = exportTarget(w.pkg.exports, `./${m[2]}`) ?? m[2];
        const resolved = resolveFile(path.join(w.dir, target));
        if (resolved) queue.push(resolved);
      }
    }
  }
  return new Set([...seen].map((f) => posix(root, f)).filter((f) => !f.startsWith("..")));
}

/** A GitHub Actions path filter (`*` within a folder, `**` across folders, `?` one character). */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Whether a change to `file` triggers a workflow with these `paths:` (a later `!pattern` excludes). */
export function triggers(paths: string[], file: string): boolean {
  let hit = false;
  for (const p of paths) {
    const negated = p.startsWith("!");
    if (globToRegExp(negated ? p.slice(1) : p).test(file)) hit = !negated;
  }
  return hit;
}

/** The files among `files` that no filter in `paths` would notice. */
export function unwatched(paths: string[], files: Iterable<string>): string[] {
  return [...files].filter((f) => !triggers(paths, f)).sort();
}

// Loose shapes: the schema and actionlint checks are what prove the files well-formed.
export type Workflow = {
  name?: string;
  on: Record<string, any>;
  permissions?: any;
  concurrency?: any;
  jobs: Record<string, any>;
  [k: string]: any;
};

export function readWorkflow(file: string): Workflow {
  return YAML.parse(fs.readFileSync(file, "utf8"));
}

/**
 * The `uses:` lines of a workflow or action that name a remote action by anything but a full
 * commit SHA followed by its exact version in a comment (`@<40 hex> # v1.2.3`): a tag can be
 * moved to other code, a SHA cannot, and the comment says what it is.
 */
export function unpinnedUses(text: string): string[] {
  return [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)]
    .filter(([, target]) => !target.startsWith("./"))
    .filter(([, target, rest]) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(target) || !/^\s*#\s*v\d+\.\d+\.\d+\s*$/.test(rest))
    .map(([line]) => line.trim());
}
