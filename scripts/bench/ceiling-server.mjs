// The ceilings of `npm run bench`'s HTTP figures: the least a Node process can do for the same
// answer, on node:http with no framework, run in a process of its own like a service.
//   GET  /static            a fixed small JSON page (what node:http alone costs)
//   GET  /tickets           the listing query of GET /api/tickets on the tickets database, same JSON shape
//   GET  /express/tickets   the same, as a bare Express route (what the framework alone costs)
//   POST /commit            one transaction with one insert (what POST /api/orders cannot beat)
//   POST /pipeline/seed     makes `n` tickets for the pipeline below; answers their ids
//   POST /order             the purchase pipeline with plain parts (see startPipeline)
//   GET  /pipeline/done     how many orders the pipeline has seen reserved
// Plain JavaScript so that nothing but node:http, Express (its own route), the pg driver and the
// NATS client is measured.
// Usage: node ceiling-server.mjs <port> <tickets database url> <commit database url> [<nats url> <user> <password>]
import http from "node:http";
import { randomUUID } from "node:crypto";
import express from "express";
import pg from "pg";
import { AckPolicy, connect } from "nats";

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
const page = JSON.stringify([{ id: "5b7c0b7e-0000-4000-8000-000000000000", title: "Ticket", price: 10, userId: "u", version: 0, orderId: null, status: "available" }]);

/** The first listing page: its JSON body and, when there is a next page, its cursor. */
async function listingPage() {
  const { rows } = await tickets.query({ ...listing, values: [21] });
  const shown = rows.slice(0, 20);
  const last = shown[shown.length - 1];
  const cursor = rows.length > 20 ? Buffer.from(JSON.stringify([last.position_at, last.id])).toString("base64url") : undefined;
  const body = shown.map((r) => ({ id: r.id, title: r.title, price: r.price_cents / 100, userId: r.user_id, version: r.version, orderId: r.order_id, status: r.status }));
  return { body, cursor };
}

const bareExpress = express();
bareExpress.get("/express/tickets", async (_req, res) => {
  const { body, cursor } = await listingPage();
  if (cursor) res.setHeader("x-next-cursor", cursor);
  res.json(body);
});

/** One transaction of one statement, as plain pg does it: begin, the statement, commit. */
const statementNames = new Map();
async function inTransaction(text, values) {
  if (!statementNames.has(text)) statementNames.set(text, `pipe${statementNames.size}`);
  const client = await commits.connect();
  try {
    await client.query("begin");
    await client.query({ name: statementNames.get(text), text, values });
    await client.query("commit");
  } finally {
    client.release();
  }
}

/**
 * The purchase pipeline with plain parts, in this one process: the same hops as the product,
 * each a transaction of one statement, and the same JetStream traffic (durable pull consumers,
 * explicit acks, a publish after each commit that has an event). POST /order inserts the order
 * and publishes order.created; three consumers take it (the ticket is reserved and ticket.updated
 * published; a payment record; a timer); a fourth takes ticket.updated and marks the order
 * reserved. No outbox, inbox, versions, lanes, validation, logs, traces or metrics: that is
 * the framework the product adds, and what this ceiling leaves out.
 */
let pipeline;
async function startPipeline() {
  const nc = await connect({ servers: natsUrl, user: natsUser, pass: natsPass, name: "bench-ceiling" });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await jsm.streams.add({ name: "BENCHPIPE", subjects: ["benchpipe.>"] });
  for (const sql of [
    "create table if not exists pipe_tickets (id uuid primary key, order_id uuid)",
    "create table if not exists pipe_orders (id uuid primary key, ticket_id uuid not null, status text not null)",
    "create table if not exists pipe_payments (order_id uuid primary key, price integer not null)",
    "create table if not exists pipe_timers (order_id uuid primary key, expires_at timestamptz not null)",
  ])
    await commits.query(sql);
  const publish = (subject, data) => js.publish(subject, new TextEncoder().encode(JSON.stringify({ id: randomUUID(), data })));
  let done = 0;
  const consumers = [];
  const consume = async (name, subject, handle) => {
    await jsm.consumers.add("BENCHPIPE", { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: subject, max_ack_pending: 1_000 });
    const messages = await (await js.consumers.get("BENCHPIPE", name)).consume({ max_messages: 100 });
    consumers.push(messages);
    void (async () => {
      for await (const m of messages) {
        void handle(JSON.parse(new TextDecoder().decode(m.data)).data).then(
          () => m.ack(),
          () => m.nak(),
        );
      }
    })();
  };
  await consume("tickets", "benchpipe.order.created", async (order) => {
    await inTransaction("update pipe_tickets set order_id = $2 where id = $1 and order_id is null", [order.ticketId, order.id]);
    await publish("benchpipe.ticket.updated", { id: order.ticketId, orderId: order.id });
  });
  await consume("payments", "benchpipe.order.created", (order) => inTransaction("insert into pipe_payments (order_id, price) values ($1, 100)", [order.id]));
  await consume("expiration", "benchpipe.order.created", (order) =>
    inTransaction("insert into pipe_timers (order_id, expires_at) values ($1, now() + interval '15 minutes')", [order.id]),
  );
  await consume("orders", "benchpipe.ticket.updated", async (ticket) => {
    await inTransaction("update pipe_orders set status = 'reserved' where id = $1", [ticket.orderId]);
    done++;
  });
  return {
    order: async (ticketId) => {
      const id = randomUUID();
      await inTransaction("insert into pipe_orders (id, ticket_id, status) values ($1, $2, 'created')", [id, ticketId]);
      // after the commit, not awaited by the answer: as the product's outbox fast path does
      void publish("benchpipe.order.created", { id, ticketId });
      return id;
    },
    seed: async (n) => {
      const ids = Array.from({ length: n }, () => randomUUID());
      await commits.query("insert into pipe_tickets (id) select unnest($1::uuid[])", [ids]);
      return ids;
    },
    done: () => done,
    close: async () => {
      await Promise.all(consumers.map((c) => c.close()));
      await nc.drain();
    },
  };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
  });
}

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
    } else if (req.url === "/order" && req.method === "POST") {
      const { ticketId } = await readJson(req);
      const id = await pipeline.order(ticketId);
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    } else if (req.url === "/pipeline/seed" && req.method === "POST") {
      const { n } = await readJson(req);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(await pipeline.seed(n)));
    } else if (req.url === "/pipeline/done") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ done: pipeline.done() }));
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
pipeline = natsUrl ? await startPipeline() : undefined;
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([tickets.end(), commits.end(), pipeline?.close()]).finally(() => process.exit(0));
});
