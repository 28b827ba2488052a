import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { connect, type NatsConnection } from "nats";
import {
  eventually,
  natsServerBinary,
  readShippedClusterConfig,
  renderClusterConfig,
  startNatsCluster,
  type LoopbackNode,
  type NatsCluster,
} from "../src";

const run = promisify(execFile);
const shipped = readShippedClusterConfig();
const node = (i: number): LoopbackNode => ({
  port: 14220 + i,
  clusterPort: 16220 + i,
  httpPort: 18220 + i,
  storeDir: `/tmp/tf-render/nats-${i}`,
  pidFile: `/tmp/tf-render/nats-${i}.pid`,
});
const layout = [node(1), node(2), node(3)];

/**
 * The file with the values of the substituted settings blanked out, written independently of the
 * renderer: two files equal under it differ only in addresses, routes and file locations.
 */
function blanked(conf: string): string {
  return conf
    .replace(/^(\s*)(listen|http|pid_file|store_dir)(\s*[:=]\s*|\s+)\S.*$/gm, "$1$2$3…")
    .replace(/^(\s*routes\s*[:=]?\s*\[)[^\]]*\]/gm, "$1…]");
}

describe("the cluster configuration rendered for loopback", () => {
  test("When the shipped nats.conf is rendered for a node, then only addresses, routes and file locations differ", () => {
    const rendered = renderClusterConfig(shipped, layout[0], layout);
    expect(blanked(rendered)).toBe(blanked(shipped));
    expect(rendered).not.toBe(shipped);
    expect(rendered).toMatch(/^listen: 127\.0\.0\.1:14221$/m);
    expect(rendered).toMatch(/^http: 127\.0\.0\.1:18221$/m);
    expect(rendered).toContain('store_dir: "/tmp/tf-render/nats-1"');
    expect(rendered).toMatch(/^\s+listen: 127\.0\.0\.1:16221$/m);
    for (const peer of layout) expect(rendered).toContain(`nats://127.0.0.1:${peer.clusterPort}`);
    expect(rendered).not.toMatch(/0\.0\.0\.0|nats-headless|\/data\b|\/var\/run/);
  });

  test("When the file has blocks the renderer does not know (users, accounts), then they are carried over as they are", () => {
    const withAuth = `${shipped}
authorization {
  users: [
    { user: orders, password: $ORDERS_NATS_PASSWORD, permissions: { publish: ["ORDERS.>", "$JS.API.>"], subscribe: ["_INBOX.>"] } }
    { user: tickets, password: $TICKETS_NATS_PASSWORD }
  ]
}
# a listen inside another block is not the server's
leafnodes { listen: 0.0.0.0:7422 }
`;
    const rendered = renderClusterConfig(withAuth, layout[1], layout);
    expect(blanked(rendered)).toBe(blanked(withAuth));
    expect(rendered).toContain("{ user: tickets, password: $TICKETS_NATS_PASSWORD }");
    expect(rendered).toContain("leafnodes { listen: 0.0.0.0:7422 }");
    expect(rendered).toMatch(/^listen: 127\.0\.0\.1:14222$/m);
  });

  test("When the shipped file lacks a setting the renderer must change, then rendering fails naming it", () => {
    const noRoutes = shipped.replace(/routes: \[[^\]]*\]/, "");
    expect(() => renderClusterConfig(noRoutes, layout[0], layout)).toThrow(/cluster\.routes/);
  });

  test("When nats-server checks the rendered file, then it accepts it", async () => {
    const bin = natsServerBinary();
    if (!bin) throw new Error("nats-server is needed for this test");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-render-"));
    try {
      const here = { ...layout[0], storeDir: path.join(dir, "nats-1"), pidFile: path.join(dir, "nats-1.pid") };
      const file = path.join(dir, "nats.conf");
      fs.writeFileSync(file, renderClusterConfig(shipped, here, layout));
      // the passwords come from the environment, as from the Secrets in the cluster
      const passwords = Object.fromEntries([...shipped.matchAll(/\$(NATS_PASSWORD_\w+)/g)].map(([, v]) => [v, "pTestPassword0123456789"]));
      const { stdout, stderr } = await run(bin, ["-t", "-c", file], { env: { ...process.env, ...passwords, POD_NAME: "nats-1" } });
      expect(`${stdout}${stderr}`).toMatch(/valid/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a three-node JetStream cluster on loopback", () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster();
    // the shipped accounts: the admin may create streams
    nc = await connect({
      servers: cluster.url.split(","),
      user: "ticketforge-admin",
      pass: cluster.passwords["ticketforge-admin"],
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.destroy();
  });

  test("When the node leading a three-replica stream is killed, then another takes over, and the node catches up when it is back", async () => {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream({ timeout: 2_000 });
    await jsm.streams.add({ name: "FAILOVER", subjects: ["failover.>"], num_replicas: 3 });
    const enc = new TextEncoder();
    for (let i = 0; i < 50; i++) await js.publish("failover.before", enc.encode(String(i)), { msgID: `before-${i}` });
    const before = await jsm.streams.info("FAILOVER");
    expect(before.cluster?.replicas).toHaveLength(2);
    const leader = cluster.nodes.find((n) => n.name === before.cluster?.leader)!;

    await leader.stop(); // SIGKILL
    // the two others elect a new stream leader and take writes again (measured ~5 s on 2 cores)
    const killedAt = Date.now();
    let after = 0;
    await eventually(
      async () => {
        await js.publish("failover.after", enc.encode(String(after)), { msgID: `after-${after}` });
        return ++after;
      },
      30_000,
      100,
    );
    const tookOverMs = Date.now() - killedAt;
    for (; after < 50; after++) await js.publish("failover.after", enc.encode(String(after)), { msgID: `after-${after}` });
    const during = await jsm.streams.info("FAILOVER");
    expect(during.cluster?.leader).not.toBe(leader.name);
    expect(during.state.messages).toBe(100);
    expect(tookOverMs).toBeLessThan(30_000);

    await leader.start();
    await cluster.waitForLeader();
    // the restarted node replays what it missed from the leader: every replica current again
    await eventually(async () => {
      const info = await jsm.streams.info("FAILOVER");
      const replicas = info.cluster?.replicas ?? [];
      return replicas.length === 2 && replicas.every((r) => r.current) && info.state.messages === 100;
    }, 30_000);
  }, 90_000);
});
