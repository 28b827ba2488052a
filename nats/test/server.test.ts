import net from "node:net";
import fs from "node:fs";
import { connect } from "nats";
import { freePorts, reservePorts, startNatsServer } from "../src";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";

describe("throw-away nats-server", () => {
  test("When started, stopped and started again, then it serves on the same port and keeps its JetStream store", async () => {
    const server = await startNatsServer();
    try {
      let nc = await connect({ servers: server.url });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: "KEEP", subjects: ["keep.>"] });
      await nc.jetstream().publish("keep.one", new TextEncoder().encode("1"));
      await nc.close();

      await server.stop();
      expect(server.running).toBe(false);
      await expect(
        new Promise((resolve, reject) => net.connect(server.port, "127.0.0.1").on("connect", resolve).on("error", reject)),
      ).rejects.toThrow();

      await server.start();
      nc = await connect({ servers: server.url });
      const info = await (await nc.jetstreamManager()).streams.info("KEEP");
      expect(info.state.messages).toBe(1);
      await nc.close();
    } finally {
      await server.destroy();
    }
    expect(fs.existsSync(server.storeDir)).toBe(false);
  });

  test("When two are started, then each gets its own free port", async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    expect(a.port).not.toBe(b.port);
    await Promise.all([a.destroy(), b.destroy()]);
  });
});

describe("free ports", () => {
  test("When a server of a test stack is down, then no listen(0) of the machine takes its port: they are below the ephemeral range, distinct and free", async () => {
    const ephemeralStart = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeLessThan(ephemeralStart);
    // what the kernel gives a listen(0) meanwhile is never one of them
    const taken = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<net.Server>((resolve) => {
            const srv = net.createServer().listen(0, "127.0.0.1", () => resolve(srv));
          }),
      ),
    );
    const kernel = taken.map((srv) => (srv.address() as net.AddressInfo).port);
    await Promise.all(taken.map((srv) => new Promise((r) => srv.close(r))));
    expect(kernel.filter((p) => ports.includes(p))).toEqual([]);
    // and each can be listened on
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => srv.once("error", reject).listen(ports[0], "127.0.0.1", resolve));
    await new Promise((r) => srv.close(r));
  });
});

describe("port reservations", () => {
  test("When another live process was handed a port, then it is not handed out again; a port of a process that died is", async () => {
    const [port] = await freePorts(1);
    const note = path.join(os.tmpdir(), "ticketforge-ports", String(port));
    expect(fs.readFileSync(note, "utf8")).toBe(String(process.pid));
    // held by another live process (pid 1 always runs)
    fs.writeFileSync(note, "1");
    expect(reservePorts([port])).toBe(false);
    // held by a process that has exited
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    fs.writeFileSync(note, String(dead));
    expect(reservePorts([port])).toBe(true);
    expect(fs.readFileSync(note, "utf8")).toBe(String(process.pid));
  });
});
