import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "@ticketforge/nats/servers";
import { Supervised, type ProcessSpec } from "./processes";

/**
 * The local gateway: nginx, as the cluster's ingress-nginx, configured from the one route table
 * (infra/routes.json) and the ports of the services' replicas. ADR 5 says why nginx and what it
 * does; this file writes its configuration and runs it.
 */

/** The one route table shared with the Kubernetes routes (infra/routes.json). */
export interface Route {
  prefix: string;
  service: string;
}

export const routesFile = path.join(__dirname, "..", "..", "infra", "routes.json");

export function loadRoutes(file = routesFile): Route[] {
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { routes: Route[] }).routes;
}

/** Each service's replicas: one base URL, or one per replica; none for a service that is not run (the web app). */
export type Targets = Record<string, string | string[] | undefined>;

/**
 * How many idle connections the gateway keeps to each service's replicas. nginx (open source) has
 * no queue in front of a replica: a crowd of buyers opens as many connections as it has requests
 * at once, and the next crowd reuses up to this many instead of opening them again.
 */
export const keptConnections = 256;

/** The largest request body the gateway takes: ingress-nginx's default (1 MB), above the services' own limit (100 kB). */
export const maxBodyBytes = 1024 * 1024;

/** nginx on PATH, or in the sbin folders Debian puts servers in (not on a user's PATH). */
export function nginxBinary(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin"]);
  for (const dir of dirs) {
    const p = path.join(dir, "nginx");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The request headers the gateway sets for a service: the client's Host, its address, scheme and
 * host in X-Forwarded-*, the loop mark, and the hop-by-hop headers nginx does not drop by itself
 * emptied; `extra` adds or overrides (Connection).
 */
function requestHeaders(extra: Record<string, string>, indent: string): string {
  const headers: Record<string, string> = {
    Host: "$upstream_host",
    "X-Forwarded-For": "$remote_addr",
    "X-Forwarded-Proto": "$scheme",
    "X-Forwarded-Host": "$http_host",
    "X-TicketForge-Gateway": "1",
    "Proxy-Connection": '""',
    "Proxy-Authorization": '""',
    Trailer: '""',
    ...extra,
  };
  return Object.entries(headers)
    .map(([name, value]) => `${indent}proxy_set_header ${name} ${value};`)
    .join("\n");
}

/** An nginx string literal: single-quoted, its quotes and backslashes escaped. nginx would read a `$` as a variable. */
function quoted(text: string): string {
  if (text.includes("$")) throw new Error(`an nginx string cannot hold "$": ${text}`);
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** The API's error shape, `{ errors: [{ message }] }`, as an nginx string. */
const apiError = (message: string) => quoted(JSON.stringify({ errors: [{ message }] }));

const fallbackPage = (routes: Route[]) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>TicketForge API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>TicketForge</h1><p>The API is up. The web app is not running (build it with <code>npm run build -w client</code>).</p>
<ul>${routes
  .filter((r) => r.prefix !== "/")
  .map((r) => `<li><a href="${r.prefix === "/api/users" ? "/api/users/currentuser" : r.prefix}">${r.prefix}</a> → ${r.service}</li>`)
  .join("")}</ul></body></html>`;

const hostPort = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
};

/**
 * The gateway's nginx.conf. What it does, in the order a request meets it:
 * 1. a request line nginx cannot take is a 400; a body over 1 MB a 413 in the API's error shape;
 * 2. a target with dot segments, starting with `//` or naming a scheme other than http(s) is a 400:
 *    the services are asked for the path the client sent, so one that URL parsing would turn into
 *    another path never reaches them;
 * 3. a request that already came through the gateway is a 508 (a port taken by the wrong process
 *    would loop);
 * 4. the longest route prefix wins, on path-segment boundaries (`/api/tickets` and `/api/tickets/…`,
 *    never `/api/ticketsX`), like a Kubernetes PathPrefix;
 * 5. the whole body is read before a replica is asked (a client that sends slowly holds a
 *    connection of the gateway, never one of a service); a service's answer is read into memory
 *    and written in one go, the web app's pages stream through, and its WebSocket is upgraded;
 * 6. the service gets the client's address in X-Forwarded-For (whatever the client sent there is
 *    replaced: this is the edge), the scheme and host in X-Forwarded-Proto and -Host, no hop-by-hop
 *    header, on a kept connection;
 * 7. replicas take turns; one that refuses a connection is left out for a second. A request that
 *    meets a dead replica before it was sent goes to the next; one that was sent is sent again only
 *    when it has no effect (GET, HEAD) or the service does it once per key (a POST with an
 *    Idempotency-Key); anything else may have been handled and is a 503 with Retry-After, as is a
 *    service with no replica up.
 */
export function gatewayConfig(options: { routes: Route[]; targets: Targets; host: string; port: number; dir: string }): string {
  const { routes, targets, dir } = options;
  const replicasOf = (service: string) => [targets[service]].flat().filter((t): t is string => !!t);
  const served = [...new Set(routes.map((r) => r.service))].filter((s) => replicasOf(s).length > 0);
  const upstreams = served.map((service) =>
    [
      `  upstream ${service} {`,
      ...replicasOf(service).map((t) => `    server ${hostPort(t)} max_fails=1 fail_timeout=1s;`),
      // an idle kept connection is closed after 4 s, before the services' own 5 s keep-alive timeout could close it under a request
      `    keepalive ${keptConnections};`,
      "    keepalive_timeout 4s;",
      "  }",
    ].join("\n"),
  );
  // a level with error_page directives of its own inherits none: each proxied location lists them all
  const errorPages = (service: string) => ["      error_page 413 @too_large;", `      error_page 502 504 =503 @${service}_down;`];
  const proxied = (service: string) => [
    ...errorPages(service),
    `      error_page 418 = @${service}_keyed;`,
    "      if ($keyed_post) { return 418; }",
    // the web app streams its pages as React renders them, and next dev's live reload is a
    // WebSocket (a level that sets a header sets them all: the whole list again)
    ...(service === "client"
      ? ["      proxy_buffering off;", requestHeaders({ Upgrade: "$http_upgrade", Connection: "$client_connection" }, "      ")]
      : []),
    `      proxy_pass http://${service};`,
  ];
  const locations = routes.flatMap((route) => {
    const body = replicasOf(route.service).length
      ? proxied(route.service)
      : route.service === "client"
        ? [
            "      if ($request_method !~ ^(GET|HEAD)$) { return 502 " + apiError("No service for this path") + "; }",
            '      default_type "text/html; charset=utf-8";',
            `      return 200 ${quoted(fallbackPage(routes))};`,
          ]
        : [`      return 502 ${apiError(`No service for ${route.prefix}`)};`];
    const block = (match: string) => [`    location ${match} {`, ...body, "    }"];
    if (route.prefix === "/") return block("/");
    const prefix = route.prefix.replace(/\/$/, "");
    return [...block(`= ${prefix}`), ...block(`${prefix}/`)];
  });
  const perService = served.flatMap((service) => [
    `    location @${service}_keyed {`,
    ...errorPages(service),
    "      proxy_next_upstream error timeout non_idempotent;",
    `      proxy_pass http://${service};`,
    "    }",
    `    location @${service}_down {`,
    "      add_header Retry-After 1 always;",
    `      return 503 ${apiError(`The ${service} service is not available right now`)};`,
    "    }",
  ]);
  return `# Written by the launcher from infra/routes.json (scripts/launcher/gateway.ts) each time it starts.
# One process: nothing is left serving if the launcher's watchdog kills it.
master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  default_type application/json;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 5s;
  client_max_body_size ${maxBodyBytes};
  # a body up to the limit stays in memory: read whole before a service is asked, never on disk
  client_body_buffer_size ${maxBodyBytes};
  proxy_http_version 1.1;
  # an API answer is read whole into memory and written in one go (never to disk: beyond the
  # buffers it passes through as it comes); by hand, a cached listing went 13 % faster than unbuffered
  proxy_buffering on;
  proxy_buffer_size 16k;
  proxy_buffers 16 16k;
  proxy_busy_buffers_size 32k;
  proxy_max_temp_file_size 0;
${requestHeaders({ Connection: '""' }, "  ")}
  proxy_hide_header Proxy-Authenticate;
  # the web app's WebSocket (next dev's live reload) passes through; nothing else is upgraded
  map $http_upgrade $client_connection {
    "" "";
    default upgrade;
  }
  # the client's Host as it sent it (with its port), or the site's name when it sent none
  map $http_host $upstream_host {
    "" $host;
    default $http_host;
  }
  map "$request_method:$http_idempotency_key" $keyed_post {
    "~^POST:." 1;
    default 0;
  }
${upstreams.join("\n")}
  server {
    listen ${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port};
    error_page 413 @too_large;
    if ($request_uri ~* "^//|/(\\.|%2e){1,2}([/?#]|%2f|$)") { return 400 ${apiError("The request target must be a path on this site")}; }
    if ($request ~* "^\\S+ (?!https?://)[a-z][a-z0-9+.-]*:") { return 400 ${apiError("The request target must be a path on this site")}; }
    if ($http_x_ticketforge_gateway) { return 508 ${apiError("Request loop through the gateway")}; }
${locations.join("\n")}
${perService.join("\n")}
    location @too_large {
      return 413 ${apiError("Request body is too large")};
    }
  }
}
`;
}

/** True once something accepts connections on the port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Where the gateway's nginx writes its errors (a service that refuses connections, a request nginx cannot take). */
export const logFileOf = (dir: string) => path.join(dir, "gateway.log");

/** The supervised nginx process of a stack, its configuration written to `dir` (created when missing). */
export function gatewaySpec(options: { routes: Route[]; targets: Targets; host: string; port: number; dir: string }): ProcessSpec {
  const bin = nginxBinary();
  if (!bin)
    throw new Error(
      "nginx is not installed: the local gateway runs on it (Debian/Ubuntu: sudo apt-get install nginx; macOS: brew install nginx)",
    );
  fs.mkdirSync(options.dir, { recursive: true });
  const conf = path.join(options.dir, "nginx.conf");
  fs.writeFileSync(conf, gatewayConfig(options));
  const probeHost = options.host === "0.0.0.0" ? "127.0.0.1" : options.host === "::" ? "::1" : options.host;
  return {
    name: "gateway",
    // A crowd holds two descriptors a request (the client's connection and the service's), more
    // than a terminal's usual soft limit (1,024 on Linux, 256 on macOS) allows. Node raises its own
    // limit at start; nginx does so only in worker processes, and this one has none: the shell
    // raises it, then becomes nginx (same pid, for the watchdog and the pid file).
    command: "/bin/sh",
    args: [
      "-c",
      'ulimit -Sn 8192 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
      bin,
      // -e: the error log before the configuration is read (nginx's built-in path may not be writable)
      ...["-p", options.dir, "-c", conf, "-e", "stderr"],
    ],
    env: { ...process.env },
    ready: () => accepts(probeHost, options.port),
    // a server like nats-server: its own process group (Ctrl-C reaches the launcher, which stops
    // the services first), its log in its folder, a watchdog that stops it if the launcher dies;
    // SIGQUIT lets it finish the requests in flight
    server: { logFile: logFileOf(options.dir), stopSignal: "SIGQUIT" },
  };
}

/** A gateway of its own on a free port, for tests: its URL, and stop() that stops it and removes its files. */
export async function startGateway(options: {
  routes: Route[];
  targets: Targets;
}): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ticketforge-gateway-"));
  const lines: string[] = [];
  const gateway = new Supervised(gatewaySpec({ ...options, host: "127.0.0.1", port, dir }), (line) => lines.push(line), 0, false);
  gateway.start();
  if (!(await gateway.waitReady(10_000))) {
    await gateway.stop();
    const log = fs.existsSync(logFileOf(dir)) ? fs.readFileSync(logFileOf(dir), "utf8") : "";
    throw new Error(`the gateway did not start:\n${[...lines, log].join("\n")}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await gateway.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
