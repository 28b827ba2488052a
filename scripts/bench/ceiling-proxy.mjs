// The ceiling of the gateway's figure: the least a Node proxy does for a request, run in a process
// of its own like the gateway. Every request goes to one target over kept connections
// (http.Agent with keep-alive), its headers as they came, and the answer is piped back: no route
// table, no header filtering, no X-Forwarded-*, no body buffering, no retry.
// Usage: node ceiling-proxy.mjs <port> <target base url>
import http from "node:http";

const [port, target] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const server = http.createServer((req, res) => {
  const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on("error", () => res.writeHead(502).end());
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
});
