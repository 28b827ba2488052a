import { type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePorts } from "@ticketforge/nats";
import { services } from "../services";
import { copyProject, groupGone, killGroups, npmRun, postmasterPid } from "./support/project-copy";

/**
 * The loops a developer runs beside a default `npm start` (no NATS_URL: the stack runs its own
 * nats-server with one account per service, on 4222 or, when that is taken, on a free port):
 * `cd auth && npm run dev`, `npm run status`, `npm run dead-letters`, `npm run provision-nats`.
 */
let dir: string;
let env: NodeJS.ProcessEnv;
const running: ChildProcess[] = [];

beforeAll(async () => {
  dir = copyProject();
  env = { ...process.env, START_CLIENT: "false", LOG_LEVEL: "warn", NODE_ENV: "development" };
  for (const name of ["NATS_URL", "NATS_USER", "NATS_PASSWORD", "NATS_PORT", "DATA_DIR", "DATABASE_URL", "JWT_KEY", "TEST_DATABASE_URL"])
    delete env[name];
  // every port of its own (passes included), so that another test's stack on the default ports is no neighbour
  const names = ["GATEWAY", ...services.map((s) => s.toUpperCase()), "CLIENT", "POSTGRES"];
  const ports = await freePorts(names.length);
  names.forEach((name, i) => (env[`${name}_PORT`] = String(ports[i])));
});
afterAll(async () => {
  killGroups(running);
  const server = postmasterPid(dir);
  if (server) process.kill(server, "SIGQUIT");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs an npm script to its end: its exit code and output. */
async function npmScript(script: string, ...args: string[]) {
  const run = npmRun(["run", "--silent", script, ...(args.length > 0 ? ["--", ...args] : [])], dir, env, running);
  return { code: await run.exited, output: run.output() };
}

describe("The developer's loops beside npm start", () => {
  test("When no stack runs, then npm run status, dead-letters and provision-nats say so and how to start one, and reach no other server", async () => {
    const status = await npmScript("status");
    expect(status.code).toBe(1);
    expect(status.output).toContain(`No TicketForge stack is running on ${path.join(dir, ".data")}`);
    expect(status.output).toContain("npm start");
    const letters = await npmScript("dead-letters");
    expect(letters.code).toBe(1);
    expect(letters.output).toContain(`No TicketForge stack is running on ${path.join(dir, ".data")}`);
    expect(letters.output).not.toContain("NATS at");
    const provision = await npmScript("provision-nats");
    expect(provision.code).toBe(1);
    expect(provision.output).toContain(`No TicketForge stack is running on ${path.join(dir, ".data")}`);
    expect(provision.output).not.toContain("NATS at");
  });

  test("When SKIP_SERVICES=auth npm start runs and auth runs with npm run dev in its folder, then a signup through the gateway works, and status, dead-letters and provision-nats find that stack's NATS and ports", async () => {
    const stack = npmRun(["start"], dir, { ...env, SKIP_SERVICES: "auth" }, running);
    await stack.waitFor("TicketForge is ready", "Ctrl-C stops everything");
    const natsUrl = (JSON.parse(fs.readFileSync(path.join(dir, ".data", "stack.json"), "utf8")) as { natsUrl: string }).natsUrl;
    expect(stack.output()).toContain(`started nats-server -js at ${natsUrl} with one user per service`);

    const auth = npmRun(["run", "dev"], path.join(dir, "auth"), env, running);
    await auth.waitFor(`auth ready on :${env.AUTH_PORT}`);
    expect(auth.output()).not.toMatch(/Authorization Violation/i);
    const signup = await fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/api/users/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "dev-loop@example.com", password: "password123" }),
    });
    expect(signup.status).toBe(201);
    const cookie = signup.headers.get("set-cookie")!.split(";")[0];
    const me = await fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/api/users/currentuser`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ currentUser: { email: "dev-loop@example.com" } });

    const status = await npmScript("status");
    expect(status.output).toMatch(/^auth\s+ready\s/m);
    expect(status.output).toMatch(/^orders\s+ready\s/m);
    expect(status.code).toBe(0);

    const letters = await npmScript("dead-letters");
    expect(letters.output).toContain(`NATS at ${natsUrl} (the stack running on ${path.join(dir, ".data")})`);
    expect(letters.output).toContain("0 dead letter(s)");
    expect(letters.code).toBe(0);

    // provisioning again, as after a change of consumers, reaches the same server as its admin
    const provision = await npmScript("provision-nats");
    expect(provision.output).toContain(`NATS at ${natsUrl} (the stack running on ${path.join(dir, ".data")})`);
    expect(provision.output).toContain("provisioned JetStream for auth, tickets");
    expect(provision.code).toBe(0);

    process.kill(-auth.child.pid!, "SIGINT");
    await auth.exited;
    await groupGone(auth.child.pid!);
    process.kill(-stack.child.pid!, "SIGINT");
    await stack.exited;
    await groupGone(stack.child.pid!);
  }, 240_000);
});
