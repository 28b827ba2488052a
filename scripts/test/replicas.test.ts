import http from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@ticketforge/nats";
import { startGateway } from "../launcher/gateway";
import { natsClusterFrom, replicasFrom } from "../launcher/settings";
import { replicaName, replicaPorts } from "../launcher/stack";

/** A stand-in replica that answers with its name and the body it received. */
async function replica(name: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name, body })));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("npm start with replicas", () => {
  test("When REPLICAS and NATS_CLUSTER are set, then they are read, and a bad value is named", () => {
    expect(replicasFrom({})).toBe(1);
    expect(replicasFrom({ REPLICAS: "3" })).toBe(3);
    expect(() => replicasFrom({ REPLICAS: "0" })).toThrow(/REPLICAS must be a whole number from 1 to 9 \(got "0"\)/);
    expect(natsClusterFrom({ NATS_CLUSTER: "3" })).toBe(3);
    expect(() => natsClusterFrom({ NATS_CLUSTER: "2" })).toThrow(/NATS_CLUSTER must be 1, 3 or 5/);
  });

  test("When a service runs three replicas, then each has its own port and name", () => {
    const ports = { gateway: 3000, auth: 3001, tickets: 3002, orders: 3003, payments: 3004, expiration: 3005, client: 3006, passes: 3007 };
    expect(replicaPorts(ports, 3).orders).toEqual([3003, 3103, 3203]);
    expect(new Set(Object.values(replicaPorts(ports, 3)).flat()).size).toBe(18);
    expect([0, 1, 2].map((i) => replicaName("orders", i))).toEqual(["orders", "orders-2", "orders-3"]);
  });
});

describe("the gateway in front of replicas", () => {
  test("When a service has three replicas and one is dead, then requests go round the live ones, bodies included, and none fails", async () => {
    const [a, b] = [await replica("a"), await replica("b")];
    const dead = `http://127.0.0.1:${await freePort()}`;
    const gateway = await startGateway({
      routes: [{ prefix: "/api/orders", service: "orders" }],
      targets: { orders: [a.url, dead, b.url] },
    });
    const base = gateway.url;
    try {
      const seen: string[] = [];
      for (let i = 0; i < 9; i++) {
        const res = await fetch(`${base}/api/orders`, { method: "POST", body: `order ${i}`, headers: { "content-type": "text/plain" } });
        expect(res.status).toBe(200);
        const { name, body } = (await res.json()) as { name: string; body: string };
        expect(body).toBe(`order ${i}`);
        seen.push(name);
      }
      expect(seen.filter((n) => n === "a").length).toBeGreaterThanOrEqual(3);
      expect(seen.filter((n) => n === "b").length).toBeGreaterThanOrEqual(3);

      // a replica dying: the other takes everything; with none left the answer is a 503 to retry
      await a.close();
      for (let i = 0; i < 4; i++) expect(((await (await fetch(`${base}/api/orders`)).json()) as { name: string }).name).toBe("b");
      await b.close();
      const none = await fetch(`${base}/api/orders`);
      expect(none.status).toBe(503);
      expect(none.headers.get("retry-after")).toBe("1");
    } finally {
      await gateway.stop();
    }
  });
});
