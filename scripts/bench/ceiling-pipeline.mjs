// The purchase pipeline with plain parts: the ceiling of `npm run bench`'s pipeline figures.
// The same hops as the product, each a transaction of one statement, and the same JetStream
// traffic (durable pull consumers, explicit acks, a publish after each commit that has an event):
//   orders      POST /order inserts the order and publishes order.created; it takes
//               ticket.updated and marks the order reserved
//   tickets     takes order.created, reserves the ticket, publishes ticket.updated
//   payments    takes order.created, records the order for payment
//   expiration  takes order.created, starts its timer
//   passes      takes ticket.updated, keeps its copy of the ticket (the product's passes learns
//               the buyer from order.completed, which this pipeline does not reach)
// No outbox, inbox, versions, lanes, validation, logs, traces or metrics: that is the framework
// the product adds, and what this ceiling leaves out. The roles run in one process (imported by
// ceiling-server.mjs), or one process each, laid out like the product's services:
//   node ceiling-pipeline.mjs <port> <database url> <nats url> <user> <password> <prefix> <role,…>
// where the process with the orders role answers HTTP on <port>: POST /order, POST /pipeline/seed
// (makes `n` tickets, answers their ids) and GET /pipeline/done (orders seen reserved).
import http from "node:http";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { AckPolicy, connect } from "nats";

export const allRoles = ["orders", "tickets", "payments", "expiration", "passes"];

/** Starts the given roles; `prefix` keeps the subjects and durables of two layouts apart. */
export async function startPipeline({ pool, nats, prefix, roles }) {
  const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.pass, name: `bench-ceiling-${prefix}` });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await jsm.streams.add({ name: "BENCHPIPE", subjects: ["benchpipe.>"] });
  for (const statement of [
    "create table if not exists pipe_tickets (id uuid primary key, order_id uuid)",
    "create table if not exists pipe_orders (id uuid primary key, ticket_id uuid not null, status text not null)",
    "create table if not exists pipe_payments (order_id uuid primary key, price integer not null)",
    "create table if not exists pipe_timers (order_id uuid primary key, expires_at timestamptz not null)",
    "create table if not exists pipe_pass_tickets (id uuid primary key, order_id uuid)",
  ]) {
    try {
      await pool.query(statement);
    } catch (err) {
      // two processes creating the same table at once: one wins, the other's is already there
      if (err.code !== "23505" && err.code !== "42P07") throw err;
    }
  }
  const statementNames = new Map();
  /** One transaction of one statement, as plain pg does it: begin, the statement, commit. */
  const inTransaction = async (text, values) => {
    if (!statementNames.has(text)) statementNames.set(text, `pipe${statementNames.size}`);
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query({ name: statementNames.get(text), text, values });
      await client.query("commit");
    } finally {
      client.release();
    }
  };
  const subject = (name) => `benchpipe.${prefix}.${name}`;
  const publish = (name, data) => js.publish(subject(name), new TextEncoder().encode(JSON.stringify({ id: randomUUID(), data })));
  let done = 0;
  const consumers = [];
  const consume = async (role, name, handle) => {
    if (!roles.includes(role)) return;
    // one durable per role and subject, as the services have (nats-server 2.9 takes one filter each)
    const durable = `${prefix}-${role}-${name.replace(".", "-")}`;
    await jsm.consumers.add("BENCHPIPE", {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      filter_subject: subject(name),
      max_ack_pending: 1_000,
    });
    const messages = await (await js.consumers.get("BENCHPIPE", durable)).consume({ max_messages: 100 });
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
  await consume("tickets", "order.created", async (order) => {
    await inTransaction("update pipe_tickets set order_id = $2 where id = $1 and order_id is null", [order.ticketId, order.id]);
    await publish("ticket.updated", { id: order.ticketId, orderId: order.id });
  });
  await consume("payments", "order.created", (order) =>
    inTransaction("insert into pipe_payments (order_id, price) values ($1, 100)", [order.id]),
  );
  await consume("expiration", "order.created", (order) =>
    inTransaction("insert into pipe_timers (order_id, expires_at) values ($1, now() + interval '15 minutes')", [order.id]),
  );
  await consume("passes", "ticket.updated", (ticket) =>
    inTransaction(
      "insert into pipe_pass_tickets (id, order_id) values ($1, $2) on conflict (id) do update set order_id = excluded.order_id",
      [ticket.id, ticket.orderId],
    ),
  );
  await consume("orders", "ticket.updated", async (ticket) => {
    await inTransaction("update pipe_orders set status = 'reserved' where id = $1", [ticket.orderId]);
    done++;
  });
  return {
    order: async (ticketId) => {
      const id = randomUUID();
      await inTransaction("insert into pipe_orders (id, ticket_id, status) values ($1, $2, 'created')", [id, ticketId]);
      // after the commit, not awaited by the answer: as the product's outbox fast path does
      void publish("order.created", { id, ticketId });
      return id;
    },
    seed: async (n) => {
      const ids = Array.from({ length: n }, () => randomUUID());
      await pool.query("insert into pipe_tickets (id) select unnest($1::uuid[])", [ids]);
      return ids;
    },
    done: () => done,
    close: async () => {
      await Promise.all(consumers.map((c) => c.close()));
      await nc.drain();
    },
  };
}

export function readJson(req) {
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

/** The HTTP side of the orders role. */
export async function pipelineRoute(pipeline, req, res) {
  if (req.url === "/order" && req.method === "POST") {
    const { ticketId } = await readJson(req);
    const id = await pipeline.order(ticketId);
    res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id }));
  } else if (req.url === "/pipeline/seed" && req.method === "POST") {
    const { n } = await readJson(req);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(await pipeline.seed(n)));
  } else if (req.url === "/pipeline/done") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ done: pipeline.done() }));
  } else {
    return false;
  }
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, databaseUrl, natsUrl, user, pass, prefix, roles] = process.argv.slice(2);
  // a few connections each: a role's transaction is one statement, and the stack's PostgreSQL
  // (max_connections 100) still holds the services' pools and the one-process ceiling's; ten each
  // overflowed it, and the refused connections' start-ups were most of the figure
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const pipeline = await startPipeline({ pool, nats: { url: natsUrl, user, pass }, prefix, roles: roles.split(",") });
  const server = http.createServer(async (req, res) => {
    try {
      if (!(await pipelineRoute(pipeline, req, res))) res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  server.keepAliveTimeout = 60_000;
  server.listen(roles.split(",").includes("orders") ? Number(port) : 0, "127.0.0.1", () => process.stdout.write("listening\n"));
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void Promise.all([pipeline.close(), pool.end()]).finally(() => process.exit(0));
  });
}
