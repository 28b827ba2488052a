// The files the cluster's NATS and PostgreSQL run, tried on the real programs where this
// machine has them (development and CI machines have nats-server, psql and a PostgreSQL server:
// TEST_DATABASE_URL's, else 127.0.0.1:5432); without them each test says so and checks nothing.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { natsServerBinary } from "../../nats/src/server";
import { natsPasswordVariable } from "../../common/src/bus/authorization";
import { find, k8sDir, ofKind, overlays, podSpec, renderOverlay, services } from "./support/k8s";

const run = promisify(execFile);

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, program);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

describe.each(overlays)("overlays/%s: nats.conf", (overlay) => {
  test("is accepted by nats-server", async () => {
    const bin = natsServerBinary();
    if (!bin) return console.warn("nats-server not found: nats.conf not checked");
    const objects = renderOverlay(overlay);
    const nats = find(objects, "StatefulSet", "nats");
    const cmName = podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name;
    const conf: string = find(objects, "ConfigMap", cmName).data["nats.conf"];
    // The same file with the pod's paths moved somewhere writable here.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-natsconf-"));
    try {
      const file = path.join(dir, "nats.conf");
      fs.writeFileSync(file, conf.replaceAll("/data", path.join(dir, "data")).replaceAll("/var/run/nats", dir));
      // the passwords come from the pod's environment (the nats-<service> Secrets)
      const passwords = Object.fromEntries(
        ["ticketforge-admin", ...services].map((user) => [natsPasswordVariable(user), `placeholder${user.replace(/[^a-z]/g, "")}`]),
      );
      const { stdout, stderr } = await run(bin, ["-t", "-c", file], { env: { ...process.env, POD_NAME: "nats-0", ...passwords } });
      expect(`${stdout}${stderr}`).toMatch(/valid/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("PostgreSQL init script", () => {
  const adminUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const script = path.join(k8sDir, "base/postgres-init.sh");
  const prefix = `tf_infra_init_${process.pid}`;
   
  let admin: any;
  let unavailable = "";

  beforeAll(async () => {
    if (!which("psql")) {
      unavailable = "psql not found";
      return;
    }
    try {
       
      const { Client } = require("pg");
      admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
      await admin.connect();
    } catch (err) {
      await admin?.end().catch(() => undefined);
      admin = undefined;
      unavailable = `no PostgreSQL at ${adminUrl} (${(err as Error).message})`;
    }
  });

  afterAll(async () => {
    if (!admin) return;
    for (const s of services) {
      await admin.query(`drop database if exists ${prefix}_${s} with (force)`).catch(() => undefined);
      await admin.query(`drop role if exists ${prefix}_${s}`).catch(() => undefined);
    }
    await admin.end();
  });

  const urls = Object.fromEntries(
    services.map((s) => [`${s.toUpperCase()}_DATABASE_URL`, `postgresql://${prefix}_${s}:pw-${s}_1@postgres:5432/${prefix}_${s}`]),
  );

  function runScript(env: Record<string, string>) {
    const server = new URL(adminUrl);
    return run("sh", [script], {
      env: {
        PATH: process.env.PATH,
        PGHOST: server.hostname,
        PGPORT: server.port || "5432",
        POSTGRES_USER: decodeURIComponent(server.username || "postgres"),
        ...(server.password ? { PGPASSWORD: decodeURIComponent(server.password) } : {}),
        ...env,
      },
    });
  }

  test("reads the same Secret keys the StatefulSet gives it", () => {
    const objects = renderOverlay("dev");
    const pg = find(objects, "StatefulSet", "postgres");
    const given = podSpec(pg).containers[0].env.map((e: { name: string }) => e.name);
    for (const key of Object.keys(urls)) expect(given).toContain(key);
    expect(ofKind(objects, "ConfigMap").some((c) => c.metadata.name.startsWith("postgres-init-"))).toBe(true);
  });

  test("creates one role and one database per service, each reachable by its own role only, and can run again", async () => {
    if (unavailable) return console.warn(`postgres-init.sh not run: ${unavailable}`);
    await runScript(urls);
    await runScript(urls);
    const owners = await admin.query(
      `select datname, pg_get_userbyid(datdba) as owner from pg_database where datname like $1 order by datname`,
      [`${prefix}_%`],
    );
    expect(owners.rows).toEqual(
      [...services].sort().map((s) => ({ datname: `${prefix}_${s}`, owner: `${prefix}_${s}` })),
    );
    const canConnect = await admin.query(
      `select has_database_privilege($1, $2, 'CONNECT') as own, has_database_privilege($1, $3, 'CONNECT') as other`,
      [`${prefix}_auth`, `${prefix}_auth`, `${prefix}_orders`],
    );
    expect(canConnect.rows[0]).toEqual({ own: true, other: false });
  });

  test("refuses a URL whose credentials would need decoding", async () => {
    if (unavailable) return console.warn(`postgres-init.sh not run: ${unavailable}`);
    const bad = { ...urls, AUTH_DATABASE_URL: `postgresql://${prefix}_auth:p%40ss@postgres:5432/${prefix}_auth` };
    await expect(runScript(bad)).rejects.toMatchObject({ stderr: expect.stringMatching(/AUTH_DATABASE_URL must be/) });
  });
});
