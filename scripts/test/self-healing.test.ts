/**
 * The launcher supervises every server it starts as it supervises the services: a crashed
 * PostgreSQL or NATS node comes back, and nothing outlives a launcher killed with SIGKILL. The
 * services are skipped here (SKIP_SERVICES): what is under test is the servers' supervision.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eventually, freePorts, reservePorts } from "@ticketforge/nats";
import { portAcceptsConnections } from "../launcher/postgres";
import { isPortFree, services } from "../launcher/stack";

const repo = path.join(__dirname, "..", "..");
const dirs: string[] = [];
const launched: ChildProcess[] = [];

afterAll(() => {
  for (const c of launched) c.kill("SIGKILL");
  for (const dir of dirs) {
    for (const p of processesOf(dir)) process.kill(p.pid, "SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A data directory and ports of its own; NATS_PORT leaves room for a cluster's three client, route and monitoring ports. */
async function stackEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-heal-"));
  fs.chmodSync(dataDir, 0o755); // as root the database server runs as `postgres`, which must reach its data dir
  dirs.push(dataDir);
  // every port of its own, so that another test's stack on the default ports is no neighbour
  const names = ["GATEWAY", ...services.map((s) => s.toUpperCase()), "CLIENT", "POSTGRES"];
  const ports = await freePorts(names.length);
  let natsPort = 0;
  for (let candidate = 20_000 + Math.floor(Math.random() * 20_000); !natsPort; candidate += 7) {
    const all = [0, 1, 2].flatMap((i) => [candidate + i, candidate + 2000 + i, candidate + 4000 + i]);
    if (all.some((port) => ports.includes(port))) continue; // free now, but the other servers' ports
    if ((await Promise.all(all.map(isPortFree))).every(Boolean) && reservePorts(all)) natsPort = candidate;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    NATS_PORT: String(natsPort),
    SKIP_SERVICES: services.join(","),
    START_CLIENT: "false",
    NODE_ENV: "development",
    ...extra,
  };
  for (const key of ["DATABASE_URL", "TEST_DATABASE_URL", "NATS_URL", "JWT_KEY", "NATS_CLUSTER"]) if (!(key in extra)) delete env[key];
  names.forEach((name, i) => (env[`${name}_PORT`] = String(ports[i])));
  return env;
}

function start(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(repo, "scripts", "start.mjs")], { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
  launched.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = (async () => {
    // two minutes: on a CI machine this start-up shares two cores with three other test files
    await eventually(() => output.includes("Ctrl-C stops everything") || child.exitCode !== null, 120_000).catch(() => undefined);
    if (!output.includes("TicketForge is ready")) throw new Error(`npm start did not get ready:\n${output}`);
  })();
  return { child, output: () => output, ready, exited };
}

function reset(env: NodeJS.ProcessEnv): string {
  return execFileSync(process.execPath, [path.join(repo, "scripts", "reset.mjs")], { cwd: repo, env, encoding: "utf8" });
}

/** Every process whose command line names `dir`, and the watchdogs beside them. */
function processesOf(dir: string): Array<{ pid: number; args: string }> {
  const rows = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ pid: Number(m[1]), args: m[2] }));
  const servers = rows.filter((r) => r.args.includes(dir) && r.pid !== process.pid);
  const ids = new Set(servers.map((s) => String(s.pid)));
  return [...servers, ...rows.filter((r) => / watchdog (\d+)$/.test(r.args) && ids.has(/ watchdog (\d+)$/.exec(r.args)![1]))];
}

const pidIn = (file: string) => (fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8").split("\n")[0].trim()) : undefined);

async function metaLeader(httpPort: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/jsz`, { signal: AbortSignal.timeout(1_000) });
    return ((await res.json()) as { meta_cluster?: { leader?: string } }).meta_cluster?.leader ?? "";
  } catch {
    return "";
  }
}

describe("npm start supervises its servers", () => {
  test("When PostgreSQL and two of three NATS nodes are killed, then each comes back, the cluster elects a leader again, and a SIGKILL of the launcher leaves no process behind", async () => {
    const env = await stackEnv({ NATS_CLUSTER: "3" });
    const dataDir = env.DATA_DIR!;
    const natsPort = Number(env.NATS_PORT);
    const launcher = start(env);
    await launcher.ready;
    const postgres = pidIn(path.join(dataDir, "postgres", "postmaster.pid"))!;
    const nodes = [1, 2].map((n) => pidIn(path.join(dataDir, `nats-${n}.pid`))!);
    expect(postgres).toBeGreaterThan(0);
    expect(nodes.every((pid) => pid > 0)).toBe(true);

    // quorum lost: two of three nodes, and the database, at once
    for (const pid of [postgres, ...nodes]) process.kill(pid, "SIGKILL");
    await eventually(
      () =>
        ["postgres", "nats-1", "nats-2"].every((name) =>
          new RegExp(`${name}\\s+\\| exited \\(SIGKILL\\); restarting in \\d+ ms`).test(launcher.output()),
        ),
      10_000,
    );
    const back = await eventually(async () => {
      const now = pidIn(path.join(dataDir, "postgres", "postmaster.pid"));
      const open = await portAcceptsConnections(Number(env.POSTGRES_PORT));
      return now && now !== postgres && open ? now : undefined;
    }, 30_000);
    expect(back).toBeGreaterThan(0);
    const leader = await eventually(async () => {
      const said = await Promise.all([0, 1, 2].map((i) => metaLeader(natsPort + 4000 + i)));
      return said[0] && said.every((l) => l === said[0]) ? said[0] : undefined;
    }, 60_000);
    expect(leader).toMatch(/^nats-\d$/);
    expect(launcher.child.exitCode).toBeNull();

    const before = processesOf(dataDir);
    // the database, three nodes, the mail catcher and the gateway, each with its watchdog
    expect(before.filter((p) => / watchdog \d+$/.test(p.args))).toHaveLength(6);
    launcher.child.kill("SIGKILL");
    await launcher.exited;
    await eventually(() => processesOf(dataDir).length === 0, 20_000, 250).catch(() => undefined);
    expect(processesOf(dataDir)).toEqual([]);

    expect(reset(env)).toContain("Done.");
    expect(fs.existsSync(dataDir)).toBe(false);
  }, 300_000);

  test("When the launcher and its watchdogs were killed, then the next start and `npm run reset` stop the servers left running, and a start after the reset works", async () => {
    // the servers that hold data (PostgreSQL, NATS) are what a start and a reset must find and
    // stop; the mail catcher holds none, and its watchdog is the first test's
    const env: NodeJS.ProcessEnv = { ...(await stackEnv()), MAILDEV: "false" };
    const dataDir = env.DATA_DIR!;
    const killAll = async (launcher: ReturnType<typeof start>) => {
      for (const p of processesOf(dataDir)) if (/ watchdog \d+$/.test(p.args)) process.kill(p.pid, "SIGKILL");
      launcher.child.kill("SIGKILL");
      await launcher.exited;
    };
    const first = start(env);
    await first.ready;
    await killAll(first);
    const postgres = pidIn(path.join(dataDir, "postgres", "postmaster.pid"))!;
    const nats = pidIn(path.join(dataDir, "nats", "nats.pid"))!;
    // without watchdogs, nothing stops them
    await new Promise((r) => setTimeout(r, 1_000));
    expect(processesOf(dataDir).map((p) => p.pid)).toEqual(expect.arrayContaining([postgres, nats]));

    const second = start(env);
    await second.ready;
    expect(second.output()).toContain(`stopped postgres (process ${postgres})`);
    expect(second.output()).toContain(`stopped nats-server (process ${nats})`);
    // the gateway left holding the port is stopped too, and the new one takes the port
    expect(second.output()).toMatch(/stopped nginx \(process \d+\)/);
    // on the same NATS port: the one the left server held
    expect(second.output()).toContain(`at nats://127.0.0.1:${env.NATS_PORT} `);
    await killAll(second);

    const said = reset(env);
    expect(said).toMatch(/stopped postgres \(process \d+\)/);
    expect(said).toMatch(/stopped nats-server \(process \d+\)/);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(processesOf(dataDir)).toEqual([]);

    const third = start(env);
    await third.ready;
    expect(third.output()).toMatch(/embedded PostgreSQL on .* \(created in/);
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
    expect(processesOf(dataDir)).toEqual([]);
  }, 300_000);
});
