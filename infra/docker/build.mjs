#!/usr/bin/env node
// Bundles one service for its container image and for `npm start`:
//   node infra/docker/build.mjs <service> [--outdir <dir>]
//
// Everything the service requires goes into dist/main.js: the workspace packages (@ticketforge/*,
// TypeScript source used in place) and the npm packages, with the libraries' comments and
// whitespace left out. A process then holds one compact script instead of some 550 module files
// with their comments: about 7 MB less per service while idle, with package.json's
// MALLOC_MMAP_THRESHOLD_ (without it, what the parse of one large script allocates stays in the
// malloc heap and the saving is lost; measured on Node 24, 2026-12-05, docs/development.md
// "Memory"). The source map covers the project's own code only, so a stack trace names the
// TypeScript line, and Node does not parse a map of every library at start-up.
// A few packages stay external, loaded from node_modules at run time (`external` below).
//
// Bundling flattens every module into dist/main.js, so `__dirname` would point at dist/ for
// all of them. Code that reads files beside its source (the SQL migrations) is kept working by
// rewriting `__dirname` / `__filename` / `import.meta.*` to the file's own path mirrored under
// dist/, and by copying the non-code files of each bundled source tree to that mirror.
import fs from "node:fs";
import path from "node:path";
import { builtinModules, createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { decode, encode } from "@jridgewell/sourcemap-codec";
import * as esbuild from "esbuild";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const codeFile = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const testFile = /(?:\.test\.|\.spec\.|\/__tests__\/|\/test\/)/;

function parseArgs(argv) {
  const args = { service: undefined, outdir: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--outdir") args.outdir = argv[++i];
    else if (!args.service) args.service = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!args.service) throw new Error("usage: node infra/docker/build.mjs <service> [--outdir <dir>]");
  args.outdir = path.resolve(args.outdir ?? path.join(repoRoot, args.service, "dist"));
  return args;
}

/** `@ticketforge/<name>` → its folder, read from the root workspaces so a new workspace needs no edit here. */
function workspacePackages() {
  const root = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
  const map = new Map();
  for (const dir of root.workspaces ?? []) {
    const file = path.join(repoRoot, dir, "package.json");
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    map.set(pkg.name, { dir: path.join(repoRoot, dir), main: pkg.main ?? "index.js", exports: pkg.exports ?? {} });
  }
  return map;
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Packages left out of the bundle, required from node_modules at run time:
 * - pino: a transport (the pretty-printer in a terminal) runs in a worker thread started from
 *   pino's own files, which a bundle would not have beside it;
 * - the OTLP exporter: loaded only when traces are exported (common/src/telemetry/tracing.ts);
 * - pg-native: pg's optional native binding, never installed (pg requires it only when asked to).
 */
const optional = new Set(["pg-native"]);
const external = new Set(["pino", "@opentelemetry/exporter-trace-otlp-http", ...optional]);
const packageName = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);

function workspacePlugin(workspaces) {
  return {
    name: "ticketforge-workspaces",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (builtins.has(args.path) || builtins.has(args.path.split("/")[0])) return { path: args.path, external: true };
        const name = packageName(args.path);
        if (external.has(name)) return { path: args.path, external: true };
        const ws = workspaces.get(name);
        if (!ws) return undefined; // an npm package: esbuild bundles it
        const sub = args.path.slice(name.length);
        // a subpath the package exports (`@ticketforge/common/api`) resolves as its `exports` say
        const target = ws.exports[`.${sub}`] ?? (sub ? `.${sub}` : `./${ws.main}`);
        const resolved = await build.resolve(target, { resolveDir: ws.dir, kind: args.kind });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: resolved.path };
      });

      build.onLoad({ filter: codeFile }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const rel = path.relative(repoRoot, args.path).split(path.sep).join("/");
        const relDir = path.posix.dirname(rel);
        let text = await fs.promises.readFile(args.path, "utf8");
        text = text
          .replace(/\bimport\.meta\.dirname\b/g, `__tf_path(${JSON.stringify(relDir)})`)
          .replace(/\bimport\.meta\.filename\b/g, `__tf_path(${JSON.stringify(rel)})`)
          .replace(/\bimport\.meta\.url\b/g, `__tf_url(${JSON.stringify(rel)})`)
          .replace(/(?<![.\w$])__dirname\b/g, `__tf_path(${JSON.stringify(relDir)})`)
          .replace(/(?<![.\w$])__filename\b/g, `__tf_path(${JSON.stringify(rel)})`);
        const loader = path.extname(args.path).replace(".", "").replace(/^[cm]/, "");
        return { contents: text, loader: loader === "tsx" || loader === "jsx" ? loader : loader === "ts" ? "ts" : "js" };
      });
    },
  };
}

/** Copies the non-code files (e.g. SQL migrations) of every workspace that went into the bundle. */
function copyAssets(metafile, workspaces, outdir) {
  const used = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const abs = path.resolve(repoRoot, input);
    for (const ws of workspaces.values()) if (abs.startsWith(ws.dir + path.sep)) used.add(ws.dir);
  }
  const copied = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(abs);
        continue;
      }
      const rel = path.relative(repoRoot, abs).split(path.sep).join("/");
      if (codeFile.test(entry.name) || testFile.test(`/${rel}`)) continue;
      const dest = path.join(outdir, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(abs, dest);
      copied.push(rel);
    }
  };
  for (const dir of used) {
    const src = path.join(dir, "src");
    if (fs.existsSync(src)) walk(src);
  }
  return copied;
}

/**
 * Fails the build when an external package would not be found at run time from the bundle's
 * place in the image (e.g. a dependency nested under common/node_modules instead of hoisted).
 */
function checkExternals(metafile, outfile) {
  const requireFromBundle = createRequire(outfile);
  const missing = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports ?? []) {
      if (!imp.external || builtins.has(imp.path) || optional.has(imp.path)) continue;
      try {
        requireFromBundle.resolve(imp.path);
      } catch {
        missing.add(imp.path);
      }
    }
  }
  return [...missing];
}

/**
 * Keeps in the source map only what maps to the project's own files: Node parses the whole map
 * when a process starts with --enable-source-maps, and the libraries' part of it was ten times
 * the project's (measured: 2.4 MB of map, 40 MB more heap per service). Where a library's code
 * begins, a mapping to no source stays: Node takes the nearest mapping before a frame's position
 * on its line, so without it a frame inside a library would be named after the project's code
 * before it. Such a frame shows its place in the bundle, and the function's name.
 */
function ownCodeOnly(mapFile) {
  const map = JSON.parse(fs.readFileSync(mapFile, "utf8"));
  const own = map.sources.map(
    (source) =>
      !path
        .resolve(path.dirname(mapFile), map.sourceRoot ?? "", source)
        .split(path.sep)
        .includes("node_modules"),
  );
  const keep = (list) => list?.filter((_, i) => own[i]);
  let kept = 0;
  const index = own.map((isOwn) => (isOwn ? kept++ : -1)); // old source index → new
  const lines = decode(map.mappings).map((line) => {
    const out = [];
    for (const [column, source, ...rest] of line) {
      const mapped = source !== undefined && own[source];
      if (mapped) out.push([column, index[source], ...rest]);
      else if (out.length === 0 || out[out.length - 1].length > 1) out.push([column]); // a library's code begins
    }
    return out;
  });
  map.mappings = encode(lines);
  map.sources = keep(map.sources);
  if (map.sourcesContent) map.sourcesContent = keep(map.sourcesContent);
  fs.writeFileSync(mapFile, JSON.stringify(map));
}

export async function bundle(service, outdir) {
  const entry = path.join(repoRoot, service, "src", "main.ts");
  if (!fs.existsSync(entry)) throw new Error(`${path.relative(repoRoot, entry)} does not exist`);
  const workspaces = workspacePackages();
  fs.rmSync(outdir, { recursive: true, force: true });
  const outfile = path.join(outdir, "main.js");
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "linked",
    // the libraries without their comments and indentation; names stay, so a trace through a
    // library still names its functions
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    logLevel: "warning",
    // One place for the path helpers the rewrite above inserts; `__dirname` here is dist/.
    // The banner comes before esbuild's own "use strict", which then no longer opens the script
    // and is not a directive: the bundle, and every ES module in it, ran in sloppy mode. The
    // banner says it first.
    banner: {
      js: [
        `"use strict";`,
        `const __tf_path = (rel) => require("node:path").join(__dirname, rel);`,
        `const __tf_url = (rel) => require("node:url").pathToFileURL(__tf_path(rel)).href;`,
      ].join("\n"),
    },
    plugins: [workspacePlugin(workspaces)],
  });
  ownCodeOnly(`${outfile}.map`);
  const assets = copyAssets(result.metafile, workspaces, outdir);
  const missing = checkExternals(result.metafile, outfile);
  if (missing.length > 0) {
    throw new Error(`external packages not resolvable from ${outdir}: ${missing.join(", ")}`);
  }
  return { outfile, assets };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { service, outdir } = parseArgs(process.argv.slice(2));
    const { outfile, assets } = await bundle(service, outdir);
    console.log(`${path.relative(process.cwd(), outfile)} (+ ${assets.length} asset files)`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
