import net from "node:net";
import fs from "node:fs";
import { connect } from "nats";
import { startNatsServer } from "../src";

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
