import http from "node:http";
import { Pool, type Dispatcher } from "undici";
import fs from "node:fs";
import path from "node:path";

/** The one route table shared with the Kubernetes Ingress (infra/routes.json). */
export interface Route {
  prefix: string;
  service: string;
}

export const routesFile = path.join(__dirname, "..", "..", "infra", "routes.json");

export function loadRoutes(file = routesFile): Route[] {
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { routes: Route[] }).routes;
}

/** Longest prefix wins, on path-segment boundaries, like an ingress-nginx Prefix path. */
export function routeFor(routes: Route[], urlPath: string): Route | undefined {
  let best: Route | undefined;
  for (const r of routes) {
    const matches =
      r.prefix === "/" ||
      urlPath === r.prefix ||
      (urlPath.startsWith(r.prefix) && (r.prefix.endsWith("/") || urlPath[r.prefix.length] === "/"));
    if (matches && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}

const fallbackPage = (routes: Route[]) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>TicketForge API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>TicketForge</h1><p>The API is up. The web app is not running (build it with <code>npm run build -w client</code>).</p>
<ul>${routes
  .filter((r) => r.prefix !== "/")
  .map((r) => `<li><a href="${r.prefix === "/api/users" ? "/api/users/currentuser" : r.prefix}">${r.prefix}</a> → ${r.service}</li>`)
  .join("")}</ul></body></html>`;

/** Headers that describe one connection, never the message (RFC 9110 §7.6.1): a proxy drops them. */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** The headers to pass on: without the hop-by-hop ones, nor those the Connection header names. */
export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: http.IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The path and query to ask the service for. Clients send the origin form (`/api/tickets?q=x`);
 * the absolute form (`http://host/api/tickets`) is accepted as its path, as HTTP/1.1 servers must;
 * anything else (`*`, `example.com:443`) is not a resource of this site: undefined, a 400.
 */
export function requestPath(target: string | undefined): string | undefined {
  if (!target) return undefined;
  // nearly every request: a target that URL parsing would give back unchanged is not parsed
  if (plainOriginForm.test(target) && !dotSegment.test(target)) return target;
  if (target.startsWith("/") && !target.startsWith("//")) {
    try {
      const url = new URL(target, "http://gateway");
      return `${url.pathname}${url.search}`;
    } catch {
      return undefined;
    }
  }
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return `${url.pathname}${url.search}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * An origin-form target made only of characters URL parsing leaves as they are, in the path and in
 * the query (no escapes in the path, where %2e is a dot; no quote, backslash or space anywhere)...
 */
const plainOriginForm = /^\/(?!\/)[A-Za-z0-9\-._~!$&()*+,;=:@/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*)?$/;
/** ...and without a dot segment, which parsing resolves. */
const dotSegment = /\/\.{1,2}(?:[/?]|$)/;

const jsonError = (res: http.ServerResponse, status: number, message: string, headers: http.OutgoingHttpHeaders = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ errors: [{ message }] }));

/** Each service's replicas: one base URL, or one per replica. */
export type Targets = Record<string, string | string[] | undefined>;

/** How long a replica that refused a connection is tried last: about a restart's first back-off. */
const downForMs = 1_000;

/**
 * Round robin over a service's replicas, like a Kubernetes Service over its ready pods. A replica
 * that refused a connection (dead, or restarting) goes to the back of the line for a while instead
 * of getting every other request.
 */
export function createBalancer(targets: Targets) {
  const turn = new Map<string, number>();
  const downUntil = new Map<string, number>();
  return {
    /** The replicas of `service` in the order to try them. */
    order(service: string): string[] {
      const all = [targets[service]].flat().filter((t): t is string => !!t);
      if (all.length === 0) return [];
      const start = (turn.get(service) ?? 0) % all.length;
      turn.set(service, start + 1);
      const rotated = [...all.slice(start), ...all.slice(0, start)];
      const now = Date.now();
      const down = (t: string) => (downUntil.get(t) ?? 0) > now;
      return [...rotated.filter((t) => !down(t)), ...rotated.filter(down)];
    },
    down(target: string): void {
      downUntil.set(target, Date.now() + downForMs);
    },
  };
}

/** The most connections the gateway holds to one replica at once. */
export const connectionsPerReplica = 32;

/**
 * The local stand-in for the ingress: one origin on :3000 routing to the services, passing the
 * client's address in X-Forwarded-For (the services trust the loopback proxy), reading each
 * request's body before a service is asked and streaming the answer back. Whatever a request
 * holds, it is answered (400 at worst): the whole stack runs in this process, so a request that
 * threw here would take every service down with it.
 */
export function createGateway(options: { routes: Route[]; targets: Targets }): http.Server {
  const balancer = createBalancer(options.targets);
  // Connections to the services are kept and reused: a fresh one per request cost the gateway
  // and the service a connect, an accept and a close each time, and on these machines that was
  // a good part of both processes' CPU under load. A replica that dies closes its connections at
  // once (the kernel does it), and a closed idle connection is dropped, so a request rarely
  // meets a dead one; when it does, it gets a 503 (nobody can tell whether the replica handled
  // it), as a request in flight when a replica dies does anyway. An idle connection is closed
  // after 4 s, before the services' own 5 s keep-alive timeout could close it under a request.
  // At most `connectionsPerReplica` at once: a crowd's requests wait their turn here, on kept
  // connections, instead of each opening one of its own that the service must accept, set up and
  // close (ADR 5 has the figures). A request holds a connection only while the service works on
  // it, since its body was read first (see proxy). The connections are undici's (a pool per
  // replica): it does a proxied request's client side for about two thirds of node:http's CPU.
  const pools = new Map<string, Pool>();
  const poolOf = (target: string) => {
    let pool = pools.get(target);
    if (!pool) {
      pool = new Pool(target, { connections: connectionsPerReplica, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000 });
      pools.set(target, pool);
    }
    return pool;
  };
  const server = http.createServer((req, res) => {
    try {
      proxy(options.routes, balancer, poolOf, req, res);
    } catch {
      if (!res.headersSent) jsonError(res, 400, "Bad request");
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5_000;
  // a stopped gateway lets go of its connections to the services
  server.on("close", () => {
    for (const pool of pools.values()) void pool.destroy();
  });
  // a malformed request line or header block, or a tunnel (CONNECT): 400 and close
  const refuse = (socket: { writable: boolean; end(text: string): void; destroy(): void }) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  };
  server.on("clientError", (_err, socket) => refuse(socket));
  server.on("connect", (_req, socket) => refuse(socket));
  return server;
}

function proxy(
  routes: Route[],
  balancer: ReturnType<typeof createBalancer>,
  poolOf: (target: string) => Pool,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) {
  if (req.headers["x-ticketforge-gateway"]) {
    // a target that is this gateway (a port taken by the wrong process) would loop forever
    res
      .writeHead(508, { "content-type": "application/json" })
      .end(JSON.stringify({ errors: [{ message: "Request loop through the gateway" }] }));
    return;
  }
  const path = requestPath(req.url);
  if (!path) {
    jsonError(res, 400, "The request target must be a path on this site");
    return;
  }
  const query = path.indexOf("?");
  const pathname = query === -1 ? path : path.slice(0, query);
  const route = routeFor(routes, pathname);
  const candidates = route ? balancer.order(route.service) : [];
  if (!route || candidates.length === 0) {
    if (route?.service === "client" && req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(fallbackPage(routes));
      return;
    }
    jsonError(res, 502, `No service for ${pathname}`);
    return;
  }
  // this is the edge: whatever X-Forwarded-For the client sent is its own word, not a proxy's
  const forwardedFor = req.socket.remoteAddress ?? "";
  const unavailable = () => {
    if (!res.headersSent) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end(JSON.stringify({ errors: [{ message: `The ${route.service} service is not available right now` }] }));
    } else res.destroy();
  };
  // A request without effect (GET, HEAD) or one the services do once per key (a POST with an
  // Idempotency-Key) may be sent again when its replica died under it before answering.
  const keyed = req.method === "POST" && typeof req.headers["idempotency-key"] === "string";
  const replayable = req.method === "GET" || req.method === "HEAD" || keyed;
  let body: Buffer | undefined;
  const headers = {
    ...endToEndHeaders(req.headers),
    "x-forwarded-for": forwardedFor,
    "x-forwarded-proto": "http",
    "x-forwarded-host": req.headers.host ?? "",
    "x-ticketforge-gateway": "1",
  };
  // the gateway answered any Expect: 100-continue itself (node:http does) and holds the body
  delete headers.expect;
  const attempt = (i: number, reattempted = false) => {
    const target = candidates[i];
    poolOf(target).stream(
      { path, method: req.method as Dispatcher.HttpMethod, headers, body },
      ({ statusCode, headers: answer }) => {
        res.writeHead(statusCode, endToEndHeaders(answer as http.IncomingHttpHeaders));
        return res;
      },
      (err) => {
        if (!err) return;
        const code = (err as NodeJS.ErrnoException).code;
        // Refused: the replica is down or restarting, and nothing was sent: the next one gets it.
        if (code === "ECONNREFUSED") {
          balancer.down(target);
          if (i + 1 < candidates.length) attempt(i + 1, reattempted);
          else unavailable();
          return;
        }
        // The connection closed before any answer, the replica dead with the request or a kept
        // connection found closed: a request that may be sent again is, once, on the next replica;
        // anything else cannot be, since it may have been handled.
        if (replayable && !res.headersSent && !reattempted) {
          attempt((i + 1) % candidates.length, true);
          return;
        }
        balancer.down(target);
        unavailable();
      },
    );
  };
  // A request that announces no body (most GETs) is passed on at once.
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
    attempt(0);
    return;
  }
  // The whole body is read before a replica is asked, as an ingress buffers requests: a client
  // that sends slowly holds a connection of the gateway, never one of a service, and a request
  // that may be sent again still has its body.
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBody) {
      req.destroy();
      if (!res.headersSent) jsonError(res, 413, "Request body is too large");
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (res.headersSent) return;
    body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    attempt(0);
  });
}

/** The largest request body the gateway takes: ingress-nginx's default (1 MB), above the services' own limit (100 kB). */
const maxBody = 1024 * 1024;
