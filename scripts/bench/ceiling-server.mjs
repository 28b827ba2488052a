// The ceilings of `npm run bench`'s HTTP figures: the least a Node process can do for the same
// answer, on node:http with no framework, run in a process of its own like a service.
//   GET  /static            a fixed small JSON page (what node:http alone costs)
//   GET  /tickets           the listing query of GET /api/tickets on the tickets database, same JSON shape
//   GET  /express/tickets   the same, as a bare Express route (what the framework alone costs)
//   POST /commit            one transaction with one insert (what POST /api/orders cannot beat)
//   POST /pipeline/seed     makes `n` tickets for the pipeline below; answers their ids
//   POST /order             the purchase pipeline with plain parts, every role in this process
//                           (ceiling-pipeline.mjs)
//   GET  /pipeline/done     how many orders the pipeline has seen reserved
// Plain JavaScript so that nothing but node:http, Express (its own route), the pg driver and the
// NATS client is measured.
// Usage: node ceiling-server.mjs <port> <tickets database url> <commit database url> [<nats url> <user> <password>]
import http from "node:http";
import express from "express";
import pg from "pg";
import { allRoles, pipelineRoute, startPipeline } from "./ceiling-pipeline.mjs";

const [port, ticketsUrl, commitUrl, natsUrl, natsUser, natsPass] = process.argv.slice(2);
const tickets = new pg.Pool({ connectionString: ticketsUrl, max: 10 });
const commits = new pg.Pool({ connectionString: commitUrl, max: 10 });

// the same statement as tickets/src/db/tickets.ts ticketPageQuery for the first public page
const listing = {
  name: "listing",
  text: `select id, title, price_cents, user_id, status, order_id, version,
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at
    from tickets where status = 'available' order by created_at desc, id desc limit $1`,
};
const page = JSON.stringify([
  { id: "5b7c0b7e-0000-4000-8000-000000000000", title: "Ticket", price: 10, userId: "u", version: 0, orderId: null, status: "available" },
]);

/** The first listing page: its JSON body and, when there is a next page, its cursor. */
async function listingPage() {
  const { rows } = await tickets.query({ ...listing, values: [21] });
  const shown = rows.slice(0, 20);
  const last = shown[shown.length - 1];
  const cursor = rows.length > 20 ? Buffer.from(JSON.stringify([last.position_at, last.id])).toString("base64url") : undefined;
  const body = shown.map((r) => ({
    id: r.id,
    title: r.title,
    price: r.price_cents / 100,
    userId: r.user_id,
    version: r.version,
    orderId: r.order_id,
    status: r.status,
  }));
  return { body, cursor };
}

const bareExpress = express();
bareExpress.get("/express/tickets", async (_req, res) => {
  const { body, cursor } = await listingPage();
  if (cursor) res.setHeader("x-next-cursor", cursor);
  res.json(body);
});

const server = http.createServer(async (req, res) => {
  try {
    if (req.url === "/static") {
      res.writeHead(200, { "content-type": "application/json" }).end(page);
    } else if (req.url === "/tickets") {
      const { body, cursor } = await listingPage();
      const headers = { "content-type": "application/json" };
      if (cursor) headers["x-next-cursor"] = cursor;
      res.writeHead(200, headers).end(JSON.stringify(body));
    } else if (req.url === "/express/tickets") {
      bareExpress(req, res);
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
    } else if (!(pipeline && (await pipelineRoute(pipeline, req, res)))) {
      res.writeHead(404).end();
    }
  } catch (err) {
    res.writeHead(500).end(String(err));
  }
});
server.keepAliveTimeout = 60_000;
// the pipeline's ceiling with every role in this one process
const pipeline = natsUrl
  ? await startPipeline({ pool: commits, nats: { url: natsUrl, user: natsUser, pass: natsPass }, prefix: "one", roles: allRoles })
  : undefined;
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([tickets.end(), commits.end(), pipeline?.close()]).finally(() => process.exit(0));
});
