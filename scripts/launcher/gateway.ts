import http from "node:http";
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
  const matches = routes.filter(
    (r) => r.prefix === "/" || urlPath === r.prefix || urlPath.startsWith(r.prefix.endsWith("/") ? r.prefix : `${r.prefix}/`),
  );
  return matches.sort((a, b) => b.prefix.length - a.prefix.length)[0];
}

const fallbackPage = (routes: Route[]) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>TicketForge API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>TicketForge</h1><p>The API is up. The web app is not running (build it with <code>npm run build -w client</code>).</p>
<ul>${routes
  .filter((r) => r.prefix !== "/")
  .map((r) => `<li><a href="${r.prefix === "/api/users" ? "/api/users/currentuser" : r.prefix}">${r.prefix}</a> → ${r.service}</li>`)
  .join("")}</ul></body></html>`;

/**
 * The local stand-in for the ingress: one origin on :3000 routing to the services, passing the
 * client's address in X-Forwarded-For (the services trust the loopback proxy) and streaming
 * bodies both ways.
 */
export function createGateway(options: { routes: Route[]; targets: Record<string, string | undefined> }): http.Server {
  const server = http.createServer((req, res) => {
    if (req.headers["x-ticketforge-gateway"]) {
      // a target that is this gateway (a port taken by the wrong process) would loop forever
      res.writeHead(508, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ message: "Request loop through the gateway" }] }));
      return;
    }
    const url = new URL(req.url ?? "/", "http://gateway");
    const route = routeFor(options.routes, url.pathname);
    const target = route && options.targets[route.service];
    if (!route || !target) {
      if (route?.service === "client" && req.method === "GET") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(fallbackPage(options.routes));
        return;
      }
      res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ message: `No service for ${url.pathname}` }] }));
      return;
    }
    const forwardedFor = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
    const upstream = http.request(
      `${target}${req.url}`,
      {
        method: req.method,
        headers: {
          ...req.headers,
          "x-forwarded-for": forwardedFor,
          "x-forwarded-proto": "http",
          "x-forwarded-host": req.headers.host ?? "",
          "x-ticketforge-gateway": "1",
        },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ errors: [{ message: `The ${route.service} service is not available right now` }] }));
      } else res.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;
  return server;
}
