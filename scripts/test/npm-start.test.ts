import { execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePorts, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { serviceRuntime } from "../launcher/runtime";
import { commandRun, copyProject, groupGone, killGroups, npmRun, postmasterPid } from "./support/project-copy";
import { manifest } from "../services";
import { processTree } from "../bench/procs";

let nats: NatsServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const running: ChildProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dir = copyProject();
  env = { ...process.env, NATS_URL: nats.url, START_CLIENT: "false", LOG_LEVEL: "warn", NODE_ENV: "development" };
  delete env.DATABASE_URL;
  delete env.JWT_PUBLIC_KEY;
  delete env.JWT_PRIVATE_KEY;
  delete env.TEST_DATABASE_URL;
  delete env.MALLOC_MMAP_THRESHOLD_;
  const names = ["GATEWAY", ...manifest.services.map((s) => s.name.toUpperCase()), "CLIENT", "POSTGRES"];
  const ports = await freePorts(names.length);
  names.forEach((name, i) => (env[`${name}_PORT`] = String(ports[i])));
});
afterAll(async () => {
  killGroups(running);
  const server = postmasterPid(dir);
  if (server) process.kill(server, "SIGQUIT");
  await nats?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function npmStart() {
  const run = npmRun(["start"], dir, env, running);
  // the whole box: its last line
  return { ...run, ready: run.waitFor("TicketForge is ready", "Ctrl-C stops everything") };
}

/** The pid of the process whose command line names `file`. */
function pidRunning(file: string): number | undefined {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(file)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

const gateway = () => `http://127.0.0.1:${env.GATEWAY_PORT}`;

/** The user's own Node (prerequisites.mjs's ownNode): the first `node` on PATH outside node_modules. */
function ownNode(): { bin: string; version: string } | undefined {
  const module = path.join(__dirname, "..", "prerequisites.mjs");
  const code = `import { ownNode } from ${JSON.stringify(module)}; process.stdout.write(JSON.stringify(ownNode() ?? null));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" })) ?? undefined;
}

describe("npm start", () => {
  test("When started on a fresh copy, then it serves the API on an embedded PostgreSQL, refuses a second start, keeps the data across a restart and recovers after being killed", async () => {
    const first = npmStart();
    await first.ready;
    expect(first.output()).toContain(`Open  http://localhost:${env.GATEWAY_PORT}`);
    // tsx had no compiled copy of this new folder's launcher and ran esbuild for it: esbuild's
    // service is not left running beside the stack
    const commands = processTree([first.child.pid!]).map((p) => fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8"));
    expect(commands.some((c) => c.includes("orders/dist/main.js"))).toBe(true);
    expect(commands.filter((c) => c.includes("esbuild"))).toEqual([]);
    expect(first.output()).toMatch(
      new RegExp(
        `embedded PostgreSQL on 127\\.0\\.0\\.1:${env.POSTGRES_PORT} \\(the services use its Unix socket\\), data in \\S+/\\.data/postgres \\(created in`,
      ),
    );
    const server = postmasterPid(dir);
    expect(server).toBeDefined();
    if (process.getuid?.() === 0) {
      // PostgreSQL refuses root: the server runs as an unprivileged user that owns its data
      const owner = fs.statSync(path.join(dir, ".data", "postgres")).uid;
      expect(owner).not.toBe(0);
      expect(Number(/Uid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server}/status`, "utf8"))![1])).toBe(owner);
    }
    // the services run on the Node the start-up names: the project's own (ADR 0007) where npm installed it
    const named = /Node\.js: the services run on (v[\d.]+), from /.exec(first.output());
    expect(named?.[1]).toBe(serviceRuntime().version);
    const orders = pidRunning(path.join(dir, "orders", "dist", "main.js"));
    expect(execFileSync(fs.readlinkSync(`/proc/${orders}/exe`), ["--version"], { encoding: "utf8" }).trim()).toBe(named?.[1]);
    // every process of the stack, the launcher first, runs with package.json's malloc setting:
    // blocks from 32 KB up mapped, and given back when freed (docs/development.md, "Memory")
    const mmapThreshold = (pid: number | undefined) =>
      fs
        .readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .find((v) => v.startsWith("MALLOC_MMAP_THRESHOLD_="));
    const launcher = processTree([first.child.pid!]).find((p) =>
      fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0").includes("scripts/start.mjs"),
    );
    for (const pid of [launcher?.pid, orders]) expect(mmapThreshold(pid)).toBe("MALLOC_MMAP_THRESHOLD_=32768");
    expect(first.output()).toContain(`orders      http://localhost:${env.ORDERS_PORT}/metrics`);
    expect(await (await fetch(`http://127.0.0.1:${env.ORDERS_PORT}/metrics`)).text()).toMatch(
      /^tf_outbox_pending_rows\{service="orders"\} 0$/m,
    );

    const signup = await fetch(`${gateway()}/api/users/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "seller@example.com", password: "password123" }),
    });
    expect(signup.status).toBe(201);
    const cookie = signup.headers.get("set-cookie")!.split(";")[0];
    const created = await fetch(`${gateway()}/api/tickets`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ title: "Smoke test concert", price: 42.5 }),
    });
    expect(created.status).toBe(201);
    const ticket = (await created.json()) as { id: string };
    const home = await fetch(gateway());
    expect(await home.text()).toContain("The API is up");

    const second = npmStart();
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/already running on this data directory/);

    process.kill(-first.child.pid!, "SIGINT"); // Ctrl-C
    await first.exited;
    await groupGone(first.child.pid!);
    expect(first.output()).toContain("stopped");
    expect(postmasterPid(dir)).toBeUndefined(); // the database stopped with it

    const again = npmStart();
    await again.ready;
    expect(again.output()).toMatch(/embedded PostgreSQL on .* \(started in/);
    const found = await fetch(`${gateway()}/api/tickets/${ticket.id}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ title: "Smoke test concert", price: 42.5 });

    // a launcher killed outright takes its database server with it (the server's watchdog stops it)
    process.kill(-again.child.pid!, "SIGKILL");
    await again.exited;
    await groupGone(again.child.pid!);
    for (let i = 0; i < 100 && postmasterPid(dir); i++) await new Promise((r) => setTimeout(r, 100));
    expect(postmasterPid(dir)).toBeUndefined();
    const third = npmStart();
    await third.ready;
    const still = await fetch(`${gateway()}/api/tickets/${ticket.id}`);
    expect(await still.json()).toMatchObject({ title: "Smoke test concert", price: 42.5 });
    process.kill(-third.child.pid!, "SIGTERM");
    await third.exited;
    await groupGone(third.child.pid!);
    expect(postmasterPid(dir)).toBeUndefined();

    // SIGTERM to npm alone (a process manager, `kill <pid of npm>`): npm passes it to the shell
    // it ran the script in, which dies without passing it on; the launcher sees its parent gone
    const fourth = npmStart();
    await fourth.ready;
    process.kill(fourth.child.pid!, "SIGTERM");
    await fourth.exited;
    const said = () => fourth.output().split("the npm process that started it is gone: stopping everything")[1] ?? "";
    for (let i = 0; i < 300 && !said().includes("stopped"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(said()).toContain("stopped");
    await groupGone(fourth.child.pid!);
    expect(postmasterPid(dir)).toBeUndefined();
  }, 300_000);

  test("When the Node that runs npm is the user's own, as on a fresh clone's first start, then the launcher and its gateway run on it and the services on the project's Node", async () => {
    // a fresh clone has no node_modules/.bin/node yet: npm runs the start script with the user's
    // own Node, and the launcher (gateway included) stays on it for that first run (ADR 0007).
    // Here node_modules is installed, so the start script is run the way npm then runs it.
    const own = ownNode();
    expect(own).toBeDefined();
    const copy = copyProject();
    try {
      const start = commandRun(own!.bin, ["--expose-gc", path.join(copy, "scripts", "start.mjs")], copy, env, running);
      await start.waitFor("TicketForge is ready", "Ctrl-C stops everything");
      expect(start.output()).toContain(`Node.js ${own!.version} (${own!.bin})`);
      expect(fs.realpathSync(`/proc/${start.child.pid}/exe`)).toBe(fs.realpathSync(own!.bin));
      const orders = pidRunning(path.join(copy, "orders", "dist", "main.js"));
      expect(execFileSync(fs.readlinkSync(`/proc/${orders}/exe`), ["--version"], { encoding: "utf8" }).trim()).toBe(
        serviceRuntime().version,
      );
      // the gateway (undici) on that Node: a request with a body and one without
      const signup = await fetch(`${gateway()}/api/users/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "own-node@example.com", password: "password123" }),
      });
      expect(signup.status).toBe(201);
      const listing = await fetch(`${gateway()}/api/tickets`);
      expect(listing.status).toBe(200);
      expect(await listing.json()).toEqual([]); // a new database: nothing on sale yet
      process.kill(-start.child.pid!, "SIGTERM");
      await start.exited;
      await groupGone(start.child.pid!);
      expect(start.output()).toContain("stopped");
      expect(postmasterPid(copy)).toBeUndefined();
    } finally {
      const server = postmasterPid(copy);
      if (server) process.kill(server, "SIGQUIT");
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }, 180_000);
});
