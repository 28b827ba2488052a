// The ceilings of `npm run bench`'s HTTP figures: the least a Node process can do for the same
// answer, on node:http with no framework, run in a process of its own like a service.
//   GET  /static   a fixed small JSON page (what node:http alone costs)
//   GET  /tickets  the listing query of GET /api/tickets on the tickets database, same JSON shape
//   POST /commit   one transaction with one insert (what POST /api/orders cannot beat)
// Plain JavaScript so that nothing but node:http and the pg driver is measured.
// Usage: node ceiling-server.mjs <port> <tickets database url> <commit database url>
import http from "node:http";
import pg from "pg";

const [port, ticketsUrl, commitUrl] = process.argv.slice(2);
const tickets = new pg.Pool({ connectionString: ticketsUrl, max: 10 });
const commits = new pg.Pool({ connectionString: commitUrl, max: 10 });

// the same statement as tickets/src/db/tickets.ts ticketPageQuery for the first public page
const listing = {
  name: "listing",
  text: `select id, title, price_cents, user_id, status, order_id, version,
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at
    from tickets where status = 'available' order by created_at desc, id desc limit $1`,
};
const page = JSON.stringify([{ id: "5b7c0b7e-0000-4000-8000-000000000000", title: "Ticket", price: 10, userId: "u", version: 0, orderId: null, status: "available" }]);

const server = http.createServer(async (req, res) => {
  try {
    if (req.url === "/static") {
      res.writeHead(200, { "content-type": "application/json" }).end(page);
    } else if (req.url === "/tickets") {
      const { rows } = await tickets.query({ ...listing, values: [21] });
      const shown = rows.slice(0, 20);
      const last = shown[shown.length - 1];
      const headers = { "content-type": "application/json" };
      if (rows.length > 20) headers["x-next-cursor"] = Buffer.from(JSON.stringify([last.position_at, last.id])).toString("base64url");
      const body = shown.map((r) => ({ id: r.id, title: r.title, price: r.price_cents / 100, userId: r.user_id, version: r.version, orderId: r.order_id, status: r.status }));
      res.writeHead(200, headers).end(JSON.stringify(body));
    } else if (req.url === "/commit" && req.method === "POST") {
      req.resume();
      const client = await commits.connect();
      try {
        await client.query("begin");
        await client.query("insert into bench_commit (at) values (now())");
        await client.query("commit");
      } finally {
        client.release();
      }
      res.writeHead(201, { "content-type": "application/json" }).end("{}");
    } else {
      res.writeHead(404).end();
    }
  } catch (err) {
    res.writeHead(500).end(String(err));
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([tickets.end(), commits.end()]).then(() => process.exit(0));
});
