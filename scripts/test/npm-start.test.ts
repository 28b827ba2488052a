import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePorts, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { serviceRuntime } from "../launcher/runtime";

const repo = path.join(__dirname, "..", "..");
const copied = ["package.json", "package-lock.json", "common", "nats", "auth", "tickets", "orders", "payments", "expiration", "client", "infra", "scripts"];

/** A copy of the project as a user would have it (node_modules linked, no .data). */
function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-start-"));
  fs.chmodSync(dir, 0o755); // like a user's clone: as root the database server runs as another user
  for (const entry of copied) {
    fs.cpSync(path.join(repo, entry), path.join(dir, entry), {
      preserveTimestamps: true,
      recursive: true,
      filter: (src) => !/node_modules|\.next|\.data|artifacts/.test(path.relative(repo, src)),
    });
  }
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

let nats: NatsServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const running: ChildProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dir = copyProject();
  env = { ...process.env, NATS_URL: nats.url, START_CLIENT: "false", LOG_LEVEL: "warn", NODE_ENV: "development" };
  delete env.DATABASE_URL;
  delete env.JWT_KEY;
  delete env.TEST_DATABASE_URL;
  const names = ["GATEWAY", "AUTH", "TICKETS", "ORDERS", "PAYMENTS", "EXPIRATION", "CLIENT", "POSTGRES"];
  const ports = await freePorts(names.length);
  names.forEach((name, i) => (env[`${name}_PORT`] = String(ports[i])));
});
afterAll(async () => {
  for (const c of running) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const server = postmasterPid();
  if (server) process.kill(server, "SIGQUIT");
  await nats?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function npmStart(): { child: ChildProcess; output: () => string; ready: Promise<void>; exited: Promise<number | null> } {
  // its own process group, so a test can press Ctrl-C on the whole group as a terminal does
  const child = spawn("npm", ["start"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      // the whole box: its last line
      if (output.includes("TicketForge is ready") && output.includes("Ctrl-C stops everything")) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`npm start exited:\n${output}`));
    });
  });
  ready.catch(() => undefined); // a start that is meant to be refused never gets ready
  return { child, output: () => output, ready, exited };
}

/** Resolves when no process of the group is left (the launcher, services, nats-server). */
async function groupGone(pgid: number) {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`processes of group ${pgid} still running`);
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

/** The embedded PostgreSQL server's pid while it runs on the copy's data directory. */
function postmasterPid(): number | undefined {
  const file = path.join(dir, ".data", "postgres", "postmaster.pid");
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, "utf8").split("\n")[0]);
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

const gateway = () => `http://127.0.0.1:${env.GATEWAY_PORT}`;

describe("npm start", () => {
  test("When started on a fresh copy, then it serves the API on an embedded PostgreSQL, refuses a second start, keeps the data across a restart and recovers after being killed", async () => {
    const first = npmStart();
    await first.ready;
    expect(first.output()).toContain(`Open  http://localhost:${env.GATEWAY_PORT}`);
    expect(first.output()).toMatch(new RegExp(`embedded PostgreSQL on 127\\.0\\.0\\.1:${env.POSTGRES_PORT} \\(the services use its Unix socket\\), data in \\S+/\\.data/postgres \\(created in`));
    const server = postmasterPid();
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
    expect(first.output()).toContain(`orders      http://localhost:${env.ORDERS_PORT}/metrics`);
    expect(await (await fetch(`http://127.0.0.1:${env.ORDERS_PORT}/metrics`)).text()).toMatch(/^tf_outbox_pending_rows\{service="orders"\} 0$/m);

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
    expect(postmasterPid()).toBeUndefined(); // the database stopped with it

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
    for (let i = 0; i < 100 && postmasterPid(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(postmasterPid()).toBeUndefined();
    const third = npmStart();
    await third.ready;
    const still = await fetch(`${gateway()}/api/tickets/${ticket.id}`);
    expect(await still.json()).toMatchObject({ title: "Smoke test concert", price: 42.5 });
    process.kill(-third.child.pid!, "SIGTERM");
    await third.exited;
    await groupGone(third.child.pid!);
    expect(postmasterPid()).toBeUndefined();
  }, 300_000);
});
