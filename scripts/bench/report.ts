import type { CrowdResults, OneTicketCrowd } from "./crowds";
import type { DoorResults } from "./door";
/** The shape of bench-results/latest.json and the table of docs/benchmarks.md made from it. */
interface Load {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs?: number;
  non2xx: number;
  errors: number;
}

/** What an order of a pipeline run cost, summed over the processes. */
interface PipelineCost {
  cpuMsPerOrder: number;
  cpuMsByProcess: Record<string, number>;
  /** Write system calls per order, all processes (PostgreSQL's send() not counted; absent in runs before it was measured). */
  writesPerOrder?: number;
  writesByProcess?: Record<string, number>;
  /** Wake-ups (voluntary context switches, every thread) per order, all processes (absent in runs before it was measured). */
  wakeupsPerOrder?: number;
  wakeupsByProcess?: Record<string, number>;
}

interface PipelineCeiling extends PipelineCost {
  orders: number;
  allReserved: boolean;
  reservedPerSecond: number;
  http: Load;
  /** The product's one-order-at-a-time phase asked of the ceiling (absent in runs before it was measured). */
  lowLoad?: OneAtATime;
}

/** Orders one at a time (main.ts's oneAtATime). */
interface OneAtATime {
  orders: number;
  /** One order every 100 ms; absent in runs before 2026-12-05's evening, which sent each second's ten back to back. */
  pacedMs?: number;
  /** The order answered (committed) → its ticket seen reserved on NATS. */
  hop: { p50Ms: number; p99Ms: number };
  /** The order's request sent → its ticket seen reserved. */
  endToEnd: { p50Ms: number; p99Ms: number };
  postOrders: Load;
}

export interface BenchResults {
  startedAt: string;
  /** A name for the run (e.g. "before"), also in its file name. */
  label?: string;
  machine: { cpus: number; node: string; loadAverageAtStart?: number; loadAverageAtEnd?: number };
  database: string;
  startup: { firstMs: number; laterMs: number; launcherSaysFirstS: number; launcherSaysLaterS: number };
  idleMemory: {
    rssMb: number;
    pssMb: number;
    processes: number;
    byName: Record<string, { count: number; rssMb: number; pssMb: number }>;
    /** How many of the processes are Node, and what a bare idle Node process holds beside them (absent in older runs). */
    nodeProcesses?: number;
    bareNodePssMb?: number;
  };
  /** CPU the idle stack spends, per second of wall time (absent in runs before it was measured). */
  idleCpu?: { msPerSecond: number; byName: Record<string, number> };
  ceilings: {
    rawJetStream: { p50Ms: number; p99Ms: number };
    oneCommit: { p50Ms: number; p99Ms: number };
    /** cpuMsPerRequest: the yardstick of CPU per order (absent in runs before it was measured). */
    bareRouteWithCommit: Load & { cpuMsPerRequest?: number };
    /** The purchase pipeline with plain parts in one process (absent in runs before it was measured). */
    pipeline?: PipelineCeiling;
    /** The same with each role in a process of its own, laid out like the services. */
    pipelineByRole?: PipelineCeiling;
    /**
     * The same without the passes role: the five hops an order took when the pipeline's goals
     * were set (absent in runs before it was measured).
     */
    pipelineByRoleFiveHops?: PipelineCeiling;
  };
  /** POST /api/orders one at a time; getOrders: GET /api/orders one at a time. */
  lowLoad: OneAtATime & { getOrders: Load };
  pipeline: PipelineRun;
  /**
   * The same load with the passes service paused (SIGSTOP) for the run: the five hops an order
   * took when the pipeline's goals were set (absent in runs before it was measured).
   */
  pipelineFiveHops?: PipelineRun;
  /**
   * The five hops again, right after, with PostgreSQL not waiting for the WAL at commit
   * (synchronous_commit off for that run only), as the goals' figures were measured on
   * 2026-12-01 (absent in runs before it was measured).
   */
  pipelineFiveHopsCommitsNotWaiting?: PipelineRun;
  listing: {
    tickets: number;
    planUsesIndex: boolean;
    plan: string[];
    viaGateway: Load;
    direct: Load;
    bareNodePg: Load;
    bareNodeStatic: Load;
    /** The same page from a bare Express route (absent in runs before it was measured). */
    bareExpress?: Load;
    /** Direct through a bare node:http proxy (ceiling-proxy.mjs; absent in runs before it was measured). */
    bareProxy?: Load;
    ratioViaGateway: number;
    ratioDirect: number;
    /**
     * Direct, with `Cache-Control: no-cache`: every request reads the database, as a miss of the
     * listing cache does (absent in runs before the cache).
     */
    directFromDatabase?: Load;
    ratioFromDatabase?: number;
  };
  /** Many buyers at one instant, through the gateway (scripts/bench/crowds.ts). */
  crowds?: CrowdResults;
  /** Passes at the door, through the gateway (scripts/bench/door.ts). */
  door?: DoorResults;
  profiles?: string[];
}

/** A run of the product's pipeline: 20 buyers order distinct tickets through the gateway. */
export type PipelineRun = PipelineCost & {
  buyers: number;
  orders: number;
  allReserved: boolean;
  drained: boolean;
  doubleReservations: number;
  reservedPerSecond: number;
  drainedPerSecond: number;
  http: Load;
};

/** What the pipeline's ceiling leaves out, in a few words (ceiling-server.mjs says it all). */
const pipelineCeilingNote =
  "node:http, pg and JetStream, a transaction per hop; no outbox, inbox, versions, validation, logs, traces or metrics";

/** How the goals' own figures were measured (2026-12-01), which the run repeats once for comparison. */
const notWaiting = " (synchronous_commit off for that run, as the goals' figures were measured; the stack's commits wait)";

/** The pipeline's goals were set when an order took five hops, before the passes service. */
const fiveHopsGoal = " (set for the five hops before passes)";

export function renderTable(r: BenchResults): string {
  const c = r.ceilings;
  const l = r.lowLoad;
  const p = r.pipeline;
  const pf = r.pipelineFiveHops;
  const pa = r.pipelineFiveHopsCommitsNotWaiting;
  const t = r.listing;
  const ceilingLow = c.pipelineByRole?.lowLoad;
  const five = c.pipelineByRoleFiveHops;
  const mean = (ms: number | undefined) => (ms === undefined ? "" : ` (mean ${ms} ms)`);
  return [
    `Measured ${r.startedAt.slice(0, 10)} on ${r.machine.cpus} cores, Node ${r.machine.node}, ${r.database}, ` +
      "every process on the same machine" +
      (r.machine.loadAverageAtStart === undefined
        ? ""
        : ` (load average ${r.machine.loadAverageAtStart} → ${r.machine.loadAverageAtEnd})`) +
      "; full figures in `bench-results/latest.json`.",
    "",
    "| what | TicketForge | ceiling (same run) | goal |",
    "| --- | --- | --- | --- |",
    row(
      `one order at a time (${l.pacedMs ? `one every ${l.pacedMs} ms` : "10/s, each second's ten sent back to back"}): request sent → ticket reserved, p50 / p99`,
      `${l.endToEnd.p50Ms} / ${l.endToEnd.p99Ms} ms (from the answer, the order committed: ${l.hop.p50Ms} / ${l.hop.p99Ms} ms)`,
      `raw JetStream round trip ${c.rawJetStream.p50Ms} ms, one commit ${c.oneCommit.p50Ms} ms` +
        (ceilingLow
          ? `; the plain pipeline with a process per service, asked the same: ${ceilingLow.endToEnd.p50Ms} / ${ceilingLow.endToEnd.p99Ms} ms (from the answer: ${ceilingLow.hop.p50Ms} / ${ceilingLow.hop.p99Ms} ms)`
          : ""),
      "≤ 10 / 50 ms",
    ),
    row(
      "POST /api/orders alone, one at a time, p50",
      `${l.postOrders.p50Ms} ms${mean(l.postOrders.meanMs)}; GET /api/orders ${l.getOrders.p50Ms} ms`,
      `bare node:http route with one transaction ${c.bareRouteWithCommit.p50Ms} ms${mean(c.bareRouteWithCommit.meanMs)}` +
        (ceilingLow
          ? `; the plain pipeline's order, asked the same: ${ceilingLow.postOrders.p50Ms} ms${mean(ceilingLow.postOrders.meanMs)}`
          : ""),
      "≤ 5 ms",
    ),
    `| ${p.orders.toLocaleString("en")} distinct tickets ordered by ${p.buyers} buyers: reserved per second | ${p.reservedPerSecond}/s (all consumers done: ${p.drainedPerSecond}/s), ${p.doubleReservations} double reservations${
      pf
        ? `; the five hops before passes (passes paused for the run): ${pf.reservedPerSecond}/s (those consumers done: ${pf.drainedPerSecond}/s), ${pf.doubleReservations} double reservations`
        : ""
    }${pa ? `; the same five hops with commits not waiting for the WAL${notWaiting}: ${pa.reservedPerSecond}/s` : ""} | ${
      c.pipeline
        ? `the same hops with plain parts (${pipelineCeilingNote}): ${c.pipeline.reservedPerSecond}/s in one process${
            c.pipelineByRole ? `, ${c.pipelineByRole.reservedPerSecond}/s with a process per service` : ""
          }${five ? ` (without the passes role: ${five.reservedPerSecond}/s)` : ""}`
        : "—"
    } | ≥ 330/s, 0${five ? fiveHopsGoal : ""} |`,
    `| CPU per order, all processes summed | ${p.cpuMsPerOrder} ms${pf ? `; the five hops before passes: ${pf.cpuMsPerOrder} ms` : ""}${
      pa ? `; the same with commits not waiting for the WAL: ${pa.cpuMsPerOrder} ms` : ""
    } | ${
      [
        c.pipeline
          ? `the plain pipeline: ${c.pipeline.cpuMsPerOrder} ms in one process${
              c.pipelineByRole ? `, ${c.pipelineByRole.cpuMsPerOrder} ms with a process per service` : ""
            }${five ? ` (without the passes role: ${five.cpuMsPerOrder} ms)` : ""} (with PostgreSQL and nats-server)`
          : undefined,
        c.bareRouteWithCommit.cpuMsPerRequest === undefined
          ? undefined
          : `bare node:http route with one transaction, 20 connections: ${c.bareRouteWithCommit.cpuMsPerRequest} ms per request (its process and PostgreSQL): an order costs ${Math.round(p.cpuMsPerOrder / c.bareRouteWithCommit.cpuMsPerRequest)} of them`,
      ]
        .filter(Boolean)
        .join("; ") || "—"
    } | ≤ 6 ms${five ? fiveHopsGoal : ""} |`,
    ...(p.writesPerOrder === undefined
      ? []
      : [
          `| write system calls per order, all processes (sockets, pipes, files; PostgreSQL sends with send(), not counted) | ${p.writesPerOrder} | ${
            c.pipeline?.writesPerOrder === undefined
              ? "—"
              : `the plain pipeline: ${c.pipeline.writesPerOrder} in one process${
                  c.pipelineByRole?.writesPerOrder === undefined ? "" : `, ${c.pipelineByRole.writesPerOrder} with a process per service`
                }`
          } | — |`,
        ]),
    ...(p.wakeupsPerOrder === undefined
      ? []
      : [
          `| wake-ups per order, all processes (voluntary context switches of every thread: a wait for a socket, a lock or a timer that ended) | ${p.wakeupsPerOrder}${
            pf?.wakeupsPerOrder === undefined ? "" : `; the five hops before passes: ${pf.wakeupsPerOrder}`
          } | ${
            c.pipeline?.wakeupsPerOrder === undefined
              ? "—"
              : `the plain pipeline: ${c.pipeline.wakeupsPerOrder} in one process${
                  c.pipelineByRole?.wakeupsPerOrder === undefined ? "" : `, ${c.pipelineByRole.wakeupsPerOrder} with a process per service`
                }${five?.wakeupsPerOrder === undefined ? "" : ` (without the passes role: ${five.wakeupsPerOrder})`}`
          } | — |`,
        ]),
    `| GET /api/tickets, 10 connections, ${t.tickets.toLocaleString("en")} tickets | ${t.viaGateway.perSecond} req/s through the gateway (${t.ratioViaGateway}; ${Math.round((t.viaGateway.perSecond / t.direct.perSecond) * 100)} % of the direct rate), ${t.direct.perSecond} req/s direct (${t.ratioDirect})${
      t.directFromDatabase
        ? `, both from the listing cache; direct from the database (no-cache): ${t.directFromDatabase.perSecond} req/s (${t.ratioFromDatabase})`
        : ""
    } | bare node:http + pg, same query: ${t.bareNodePg.perSecond} req/s${
      t.bareExpress
        ? `; the same as a bare Express route: ${t.bareExpress.perSecond} req/s (${Math.round((t.bareExpress.perSecond / t.bareNodePg.perSecond) * 100) / 100})`
        : ""
    }; bare node:http: ${t.bareNodeStatic.perSecond} req/s${
      t.bareProxy
        ? `; the same service through a bare node:http proxy (kept connections, http.request and pipe, nothing else): ${t.bareProxy.perSecond} req/s (${Math.round((t.bareProxy.perSecond / t.direct.perSecond) * 100)} % of direct)`
        : ""
    } | ≥ 0.8; through the gateway ≥ 80 % of direct |`,
    `| listing query plan with ${t.tickets.toLocaleString("en")} tickets | ${t.planUsesIndex ? "index scan, no sort" : "NOT the index: " + t.plan[0]} | — | index |`,
    `| idle memory of the stack (the launcher and what it starts: the services, maildev, PostgreSQL, nats-server; no web app) | PSS ${r.idleMemory.pssMb} MB (RSS sum ${r.idleMemory.rssMb} MB, ${r.idleMemory.processes} processes) | ${
      r.idleMemory.bareNodePssMb === undefined
        ? "—"
        : `a bare Node process doing nothing, beside the stack: ${r.idleMemory.bareNodePssMb} MB PSS; the stack runs ${r.idleMemory.nodeProcesses} Node processes`
    } | ≤ 500 MB |`,
    ...(r.crowds ? crowdRows(r.crowds) : []),
    ...(r.idleCpu
      ? [
          `| CPU of the idle stack (timers, sweepers, heartbeats) | ${r.idleCpu.msPerSecond} ms a second (${Math.round(r.idleCpu.msPerSecond / 10) / 100} of a core) | — | — |`,
        ]
      : []),
    ...(r.door
      ? [
          `| paid → pass listed (GET /api/passes), p50 / p99, ${r.door.paymentToPass.purchases === undefined ? `${r.door.passes} purchases, ten at once` : `${r.door.paymentToPass.purchases} purchases one at a time`} | ${r.door.paymentToPass.p50Ms} / ${r.door.paymentToPass.p99Ms} ms | — | p50 ≤ 100 ms |`,
          ...(r.door.paymentToPassTenAtOnce
            ? [
                `| the same, ten purchases at once, ${r.door.paymentToPassTenAtOnce.purchases} purchases | ${r.door.paymentToPassTenAtOnce.p50Ms} / ${r.door.paymentToPassTenAtOnce.p99Ms} ms | — | — |`,
              ]
            : []),
          `| check-ins (POST /api/checkins) per second: one scanner / ten | ${r.door.checkinsPerSecond.oneScanner}/s / ${r.door.checkinsPerSecond.tenScanners}/s | — | — |`,
          `| door codes verified offline (WebCrypto Ed25519, one core) | ${r.door.offlineVerificationsPerSecond}/s | — | — |`,
        ]
      : []),
    `| \`npm start\` ready: first start (cluster created) / later start | ${seconds(r.startup.firstMs)} / ${seconds(r.startup.laterMs)} | — | ≤ 20 s / 8 s |`,
  ].join("\n");
}

/** Milliseconds as seconds to a tenth; null (a block that never sold out) as "never". */
const seconds = (ms: number | null) => (ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`);

/** A row of the table. */
function row(...cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** The crowds (scripts/bench/crowds.ts), measured from outside through the gateway. */
function crowdRows({ oneTicket: o, oneTicketAgain: again, oneTicketWarm: warm, block: b, blockDraws: draws }: CrowdResults): string[] {
  // a run that sold one block (every run before 2026-12-06's evening) shows it alone
  const several = draws && draws.length > 1 ? draws : undefined;
  const answers = (c: OneTicketCrowd) =>
    `${c.created} order, ${c.refused} refused with 400${Object.keys(c.other).length > 0 ? `, others: ${JSON.stringify(c.other)}` : ""}; p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms`;
  // where a refusal's time goes: the total, then the four processes that spent the most
  const cpu = (c: OneTicketCrowd) => {
    if (!c.cpuMsPerRequest) return "";
    const spent = Object.entries(c.cpuMsPerRequest).sort((a, b) => b[1] - a[1]);
    const total = spent.reduce((sum, [, ms]) => sum + ms, 0);
    return `; CPU per request ${total.toFixed(2)} ms, of which ${spent
      .slice(0, 4)
      // runs before the gateway was nginx: it ran inside the launcher
      .map(([name, ms]) => `${name === "launcher" ? "gateway (launcher)" : name} ${ms.toFixed(2)}`)
      .join(", ")}`;
  };
  return [
    row(
      `${o.buyers} signed-in buyers order one ticket at the same instant, each one's first order`,
      `${answers(o)}${cpu(o)}`,
      "—",
      "1 order, the rest 400; p99 ≤ 600 ms",
    ),
    ...(again ? [row("the same buyers again, on another ticket", `${answers(again)}${cpu(again)}`, "—", "—")] : []),
    ...(warm
      ? [
          row(
            `${warm.buyers} other buyers who have just signed up, on a third ticket (each one's first order; the services' code warmed by the two crowds before)`,
            `${answers(warm)}${cpu(warm)}`,
            "—",
            "—",
          ),
        ]
      : []),
    row(
      `${b.tickets} tickets, ${b.buyers} buyers each reading the listing and ordering` +
        (several ? ` (${several.length} blocks one after the other, by the same buyers: the median one by POST p99, then all)` : ""),
      `sold out in ${seconds(b.soldOutMs)}; POST p50 ${b.post.p50Ms} ms, p99 ${b.post.p99Ms} ms; ${b.ticketsReservedTwice} reserved twice` +
        (several
          ? `; the ${several.length} blocks: sold out in ${several.map((d) => seconds(d.soldOutMs)).join(", ")}, ` +
            `POST p99 ${several.map((d) => `${d.post.p99Ms} ms`).join(", ")} (${several.map((d) => d.ordersPlaced + d.refusals).join(", ")} POSTs), ` +
            `${several.reduce((n, d) => n + d.ticketsReservedTwice, 0)} reserved twice`
          : ""),
      "—",
      "≤ 3 s, p99 ≤ 1.5 s, 0",
    ),
  ];
}
