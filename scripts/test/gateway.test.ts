import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gatewayConfig, keptConnections, loadRoutes, nginxBinary, startGateway } from "../launcher/gateway";

/** A stand-in service: records what reaches it and answers with connection-scoped headers of its own. */
let seen: http.IncomingHttpHeaders[] = [];
let seenPaths: string[] = [];
let upstreamConnections = 0;
let upstream: http.Server;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let gatewayPort: number;

const listen = (server: http.Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    seenPaths.push(req.url ?? "");
    res.writeHead(200, {
      "content-type": "application/json",
      connection: "keep-alive, x-upstream-hop",
      "x-upstream-hop": "for the gateway only",
      "keep-alive": "timeout=99",
      "proxy-authenticate": "Basic realm=upstream",
      "x-end-to-end": "kept",
    });
    res.end(JSON.stringify({ ok: true }));
  });
  upstream.on("connection", () => upstreamConnections++);
  const upstreamPort = await listen(upstream);
  const target = `http://127.0.0.1:${upstreamPort}`;
  // the web app is not running: the gateway answers its paths with a page of its own
  gateway = await startGateway({ routes: loadRoutes(), targets: { auth: target, tickets: target, orders: target, payments: target } });
  gatewayPort = gateway.port;
});
afterAll(async () => {
  await gateway.stop();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});
beforeEach(() => {
  seen = [];
  seenPaths = [];
});

/** Sends bytes exactly as written (a request line no HTTP client library would produce) and returns the answer. */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gatewayPort, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => (answer += d));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.write(text);
    socket.setTimeout(3_000, () => socket.end());
  });
}

const get = (path: string, headers: http.OutgoingHttpHeaders = {}) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: gatewayPort, path, headers }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on("error", reject);
  });

describe("the gateway's configuration", () => {
  test.each(["127.0.0.1", "0.0.0.0", "::1", "::"])("When HOST is %s, then nginx accepts the configuration written for it", (host) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-conf-"));
    try {
      const conf = path.join(dir, "nginx.conf");
      fs.writeFileSync(
        conf,
        gatewayConfig({ routes: loadRoutes(), targets: { orders: ["http://127.0.0.1:1", "http://127.0.0.1:2"] }, host, port: 3000, dir }),
      );
      const check = spawnSync(nginxBinary()!, ["-t", "-p", dir, "-c", conf, "-e", "stderr"], { encoding: "utf8" });
      expect(check.stderr).toContain("test is successful");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the local gateway", () => {
  test("When requests follow one another, then they reuse one connection to the service, and one the service closed is replaced", async () => {
    await get("/api/tickets"); // a kept connection from here on
    const before = upstreamConnections;
    for (let i = 0; i < 5; i++) expect((await get(`/api/tickets?i=${i}`)).status).toBe(200);
    expect(upstreamConnections - before).toBe(0);
    // the service closes its idle connections (its keep-alive timeout, or a restart): the next request still succeeds
    upstream.closeIdleConnections();
    expect((await get("/api/tickets?after=close")).status).toBe(200);
    expect(seenPaths).toContain("/api/tickets?after=close");
  });

  test("When a client sends Expect: 100-continue with its body, then it is told to go on and the service gets the body", async () => {
    const body = JSON.stringify({ title: "x".repeat(2_000) });
    const answer = await raw(
      `POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(answer).toMatch(/\r\n\r\nHTTP\/1\.1 200 /);
    expect(seenPaths).toEqual(["/api/tickets"]);
    expect(seen[0].expect).toBeUndefined();
  });

  test("When a request has an absolute-form target, then it is proxied by its path and the gateway keeps running", async () => {
    const answer = await raw("GET http://x/api/tickets?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(seenPaths).toEqual(["/api/tickets?q=1"]);
    expect((await get("/api/tickets")).status).toBe(200);
  });

  test.each([
    "/api/tickets",
    "/api/tickets?status=available&cursor=WyIyMDI2Il0",
    "/api/tickets/.hidden",
    "/api/tickets?q='x'",
    "/api/tickets?q=%zz",
  ])("When the target is %s, then the service is asked for it as sent", async (target) => {
    expect((await get(target)).status).toBe(200);
    expect(seenPaths).toEqual([target]);
  });

  test.each([
    "/api/tickets/./x",
    "/api/tickets/../orders",
    "/api/tickets/%2e%2e/orders",
    "/api/tickets/.",
    "/api/tickets/..?q=1",
    "/api/tickets/%2E/x",
  ])("When the target %s has a dot segment, then 400 with the error shape and no service is asked", async (target) => {
    const res = await get(target);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ errors: [{ message: "The request target must be a path on this site" }] });
    expect(seenPaths).toEqual([]);
  });

  test.each([
    ["/api/users/signin", true],
    ["/api/users", true],
    ["/api/tickets/1", true],
    ["/api/orders/1", true],
    ["/api/payments", true],
    ["/api/ticketsX", false],
    ["/tickets/new", false],
  ])(
    "When %s is asked, then it reaches a service: %s (the longest prefix on a segment boundary wins, like the cluster's routes)",
    async (target, toService) => {
      const res = await get(target as string);
      expect(res.status).toBe(200);
      expect(seenPaths).toEqual(toService ? [target] : []);
      if (!toService) expect(res.body).toMatch(/The web app is not running/);
    },
  );

  test("When a request comes back through the gateway (a port taken by the wrong process), then 508 instead of a loop", async () => {
    const res = await get("/api/tickets", { "x-ticketforge-gateway": "1" });
    expect(res.status).toBe(508);
    expect(seenPaths).toEqual([]);
  });

  test.each([
    ["OPTIONS * HTTP/1.1"],
    ["CONNECT example.com:443 HTTP/1.1"],
    ["GET //evil.example/api/tickets HTTP/1.1"],
    ["GET ftp://x/api/tickets HTTP/1.1"],
  ])("When the request line is %s, then 400 with the error shape and the gateway keeps running", async (line) => {
    const answer = await raw(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(seenPaths).toEqual([]);
    expect((await get("/api/tickets")).status).toBe(200);
  });

  test("When the request line is not HTTP at all, then 400 and the gateway keeps running", async () => {
    expect(await raw("\u0000\u0001 garbage\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
    expect((await get("/api/tickets")).status).toBe(200);
  });

  // Headers that a Connection header names are passed on, as ingress-nginx passes them in the cluster
  test("When a request carries hop-by-hop headers, then the service never sees them", async () => {
    await get("/api/tickets", {
      connection: "keep-alive, x-client-hop",
      "x-client-hop": "for the gateway only",
      "keep-alive": "timeout=5",
      "proxy-authorization": "Basic c2VjcmV0",
      te: "trailers",
      upgrade: "websocket",
      "x-end-to-end": "kept",
    });
    const headers = seen[0];
    for (const name of ["keep-alive", "proxy-authorization", "te", "upgrade"]) expect(headers).not.toHaveProperty(name);
    expect(headers.connection ?? "").not.toMatch(/x-client-hop/);
    expect(headers["x-end-to-end"]).toBe("kept");
  });

  test("When a service answers with hop-by-hop headers, then the client never sees them", async () => {
    const res = await get("/api/tickets");
    expect(res.headers).not.toHaveProperty("proxy-authenticate");
    expect(res.headers.connection ?? "").not.toMatch(/x-upstream-hop/);
    expect(res.headers["keep-alive"]).not.toBe("timeout=99");
    expect(res.headers["x-end-to-end"]).toBe("kept");
    expect(res.body).toBe('{"ok":true}');
  });

  test("When a client sends its own X-Forwarded-For, then the service gets the client's real address instead", async () => {
    await get("/api/users/signin", { "x-forwarded-for": "203.0.113.9" });
    expect(seen[0]["x-forwarded-for"]).toBe("127.0.0.1");
  });
});

describe("the local gateway over replicas", () => {
  /** Two replicas of orders: the first dies with every request it gets (no answer), the second answers with what it got. */
  async function replicas() {
    const got: Array<{ method: string; body: string; key?: string }> = [];
    const dying = http.createServer((req) => req.socket.destroy());
    const alive = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        got.push({ method: req.method ?? "", body, key: req.headers["idempotency-key"] as string | undefined });
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id: "o1" }));
      });
    });
    const ports = [await listen(dying), await listen(alive)];
    const front = await startGateway({ routes: loadRoutes(), targets: { orders: ports.map((p) => `http://127.0.0.1:${p}`) } });
    const port = front.port;
    const post = (headers: http.OutgoingHttpHeaders) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, path: "/api/orders", method: "POST", headers: { "content-type": "application/json", ...headers } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ ticketId: "t1" }));
      });
    const close = async () => {
      await front.stop();
      for (const s of [dying, alive]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    };
    return { got, post, close };
  }

  test("When the replica of a POST with an Idempotency-Key dies under it, then the gateway sends it once more, body and key, to another replica", async () => {
    const { got, post, close } = await replicas();
    try {
      expect(await post({ "idempotency-key": "k-1" })).toBe(201);
      expect(got).toEqual([{ method: "POST", body: '{"ticketId":"t1"}', key: "k-1" }]);
    } finally {
      await close();
    }
  });

  test("When the replica of a POST without a key dies under it, then 503 and no other replica gets it (it may have been handled)", async () => {
    const { got, post, close } = await replicas();
    try {
      expect(await post({})).toBe(503);
      expect(got).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("the local gateway under a crowd and slow clients", () => {
  let service: http.Server;
  let front: Awaited<ReturnType<typeof startGateway>>;
  let port: number;
  let open = 0;
  let mostOpen = 0;
  const bodies: string[] = [];
  let asked = 0;

  beforeAll(async () => {
    // a service that takes 20 ms per request and counts the connections it holds
    service = http.createServer((req, res) => {
      asked++;
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        bodies.push(body);
        setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'), 20);
      });
    });
    service.on("connection", (socket) => {
      mostOpen = Math.max(mostOpen, ++open);
      socket.on("close", () => open--);
    });
    const target = `http://127.0.0.1:${await listen(service)}`;
    front = await startGateway({ routes: loadRoutes(), targets: { orders: target } });
    port = front.port;
  });
  afterAll(async () => {
    await front.stop();
    service.closeAllConnections();
    await new Promise((r) => service.close(r));
  });

  test("When 300 buyers post at the same instant, then every one is answered once, and up to keptConnections of the connections are kept for the next crowd", async () => {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const post = (n: number) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, path: "/api/orders", method: "POST", agent, headers: { "content-type": "application/json" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ ticketId: `t-${n}` }));
      });

    const statuses = await Promise.all(Array.from({ length: 300 }, (_, n) => post(n)));

    expect(statuses.every((s) => s === 200)).toBe(true);
    // nginx has no queue in front of a replica: the crowd had a connection each
    expect(mostOpen).toBeGreaterThan(keptConnections);
    expect(bodies.length).toBe(300);
    expect(new Set(bodies).size).toBe(300);
    // the gateway keeps up to keptConnections of them open for the next requests, and closes the rest
    await new Promise((r) => setTimeout(r, 200));
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThanOrEqual(keptConnections);
  });

  test("When a client sends its body slowly, then the service is asked only once the body is whole", async () => {
    bodies.length = 0;
    asked = 0;
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => (answer += d));
    const body = JSON.stringify({ ticketId: "slow" });
    socket.write(
      `POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    socket.write(body.slice(0, 5));
    await new Promise((r) => setTimeout(r, 300));
    expect(asked).toBe(0);
    socket.write(body.slice(5));
    await new Promise((r) => socket.on("end", r));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(bodies).toEqual([body]);
  });

  test("When a body is larger than 1 MB, then 413 and the service never sees it", async () => {
    bodies.length = 0;
    const status = await new Promise<number>((resolve) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/api/orders", method: "POST" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", () => resolve(-1)); // the gateway may close before the whole body is written
      req.end(Buffer.alloc(1024 * 1024 + 10, 0x61));
    });
    expect([413, -1]).toContain(status);
    expect(bodies).toEqual([]);
  });
});

describe("the web app behind the gateway", () => {
  let app: http.Server;
  let front: Awaited<ReturnType<typeof startGateway>>;
  const pages: http.IncomingHttpHeaders[] = [];
  const upgraded: net.Socket[] = [];

  beforeAll(async () => {
    // a stand-in for next dev: a page, and a WebSocket that echoes (its live reload)
    app = http.createServer((req, res) => {
      pages.push(req.headers);
      res.writeHead(200, { "content-type": "text/html" }).end("<p>the web app</p>");
    });
    app.on("upgrade", (req, socket: net.Socket) => {
      upgraded.push(socket);
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      socket.on("data", (d) => socket.write(d));
    });
    const port = await listen(app);
    front = await startGateway({ routes: loadRoutes(), targets: { client: `http://127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    await front.stop();
    for (const socket of upgraded) socket.destroy();
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
  });

  test("When a page is asked, then the web app answers it with the same forwarded headers as a service gets", async () => {
    const res = await fetch(`${front.url}/tickets/new`, { headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("<p>the web app</p>");
    expect(pages.at(-1)).toMatchObject({ "x-forwarded-for": "127.0.0.1", "x-ticketforge-gateway": "1" });
    expect(pages.at(-1)?.upgrade).toBeUndefined();
  });

  test("When the browser opens next dev's live-reload WebSocket, then it is upgraded through the gateway and carries messages both ways", async () => {
    const socket = net.connect(front.port, "127.0.0.1");
    let received = "";
    socket.on("data", (d) => (received += d));
    socket.write(
      "GET /_next/hmr HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    const deadline = Date.now() + 3_000;
    while (!received.includes("\r\n\r\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toMatch(/^HTTP\/1\.1 101 /);
    received = "";
    socket.write("reload?");
    while (!received.includes("reload?") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toBe("reload?");
    socket.destroy();
  });
});
