import type { BenchResults } from "./report";

/**
 * bench-results/history.csv: one line per `npm run bench`, the run's headline figures with the
 * date, the commit it measured and the Node it ran on. latest.json holds the last run whole; the
 * history keeps the trend without a file per run. The machine's speed changes from one run to
 * the next, so the line also holds the ceiling the goals are read against, measured in the same
 * run: the five hops with plain parts beside the product's five hops.
 */
export const historyColumns = [
  "date",
  "commit",
  "node",
  "label",
  "reserved_per_s",
  "cpu_ms_per_order",
  "hop_p50_ms",
  "hop_p99_ms",
  "post_orders_p50_ms",
  "listing_direct_req_per_s",
  "idle_pss_mb",
  "first_start_s",
  "later_start_s",
  // columns added later: the rows of older runs leave them empty where nothing was measured
  "five_hops_per_s",
  "five_hops_cpu_ms",
  "plain_five_hops_per_s",
  "plain_five_hops_cpu_ms",
  "five_hops_cpu_over_plain",
  "one_ticket_p99_ms",
  "block_sold_out_ms",
  "block_post_p99_ms",
  "listing_gateway_share_pct",
  // one order at a time, from the request to the ticket seen reserved (the goal's measure), and
  // how the orders were paced: 100 (ms between two orders) since 2026-12-05's evening, empty for
  // the older runs, whose ten orders a second went back to back
  "request_to_reserved_p50_ms",
  "request_to_reserved_p99_ms",
  "one_at_a_time_paced_ms",
  // the five hops with commits not waiting for the WAL, as the goals' figures were measured, and
  // how many blocks the crowd bought (the block's columns are the median one's since 2026-12-06's
  // evening; empty: one block)
  "five_hops_not_waiting_per_s",
  "five_hops_not_waiting_cpu_ms",
  "blocks",
] as const;

export const historyHeader = historyColumns.join(",");

const cell = (v: string | number | undefined) => {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The history line of one run; `commit` is the short hash the run measured ("" when unknown). */
export function historyRow(r: BenchResults, commit: string): string {
  const five = r.pipelineFiveHops;
  const plain = r.ceilings.pipelineByRoleFiveHops;
  const values: Record<(typeof historyColumns)[number], string | number | undefined> = {
    date: r.startedAt.replace(/\.\d+Z$/, "Z"),
    commit,
    node: r.machine.node,
    label: r.label,
    reserved_per_s: r.pipeline.reservedPerSecond,
    cpu_ms_per_order: r.pipeline.cpuMsPerOrder,
    hop_p50_ms: r.lowLoad.hop.p50Ms,
    hop_p99_ms: r.lowLoad.hop.p99Ms,
    post_orders_p50_ms: r.lowLoad.postOrders.p50Ms,
    listing_direct_req_per_s: r.listing.direct.perSecond,
    idle_pss_mb: r.idleMemory.pssMb,
    first_start_s: Math.round(r.startup.firstMs / 100) / 10,
    later_start_s: Math.round(r.startup.laterMs / 100) / 10,
    five_hops_per_s: five?.reservedPerSecond,
    five_hops_cpu_ms: five?.cpuMsPerOrder,
    plain_five_hops_per_s: plain?.reservedPerSecond,
    plain_five_hops_cpu_ms: plain?.cpuMsPerOrder,
    five_hops_cpu_over_plain: five && plain ? Math.round((100 * five.cpuMsPerOrder) / plain.cpuMsPerOrder) / 100 : undefined,
    one_ticket_p99_ms: r.crowds?.oneTicket.p99Ms,
    block_sold_out_ms: r.crowds?.block.soldOutMs ?? undefined,
    block_post_p99_ms: r.crowds?.block.post.p99Ms,
    listing_gateway_share_pct: Math.round((100 * r.listing.viaGateway.perSecond) / r.listing.direct.perSecond),
    request_to_reserved_p50_ms: r.lowLoad.endToEnd.p50Ms,
    request_to_reserved_p99_ms: r.lowLoad.endToEnd.p99Ms,
    one_at_a_time_paced_ms: r.lowLoad.pacedMs,
    five_hops_not_waiting_per_s: r.pipelineFiveHopsCommitsNotWaiting?.reservedPerSecond,
    five_hops_not_waiting_cpu_ms: r.pipelineFiveHopsCommitsNotWaiting?.cpuMsPerOrder,
    blocks: r.crowds?.blockDraws?.length,
  };
  return historyColumns.map((c) => cell(values[c])).join(",");
}

/**
 * The history file's text with the run added in date order, under the current header. Rows
 * written under an older header (fewer columns, each added at the end) get empty cells for the
 * columns they predate.
 */
export function withRun(history: string | undefined, r: BenchResults, commit: string): string {
  const lines = (history ?? "").split("\n").filter(Boolean);
  const header = lines[0]?.startsWith("date,") ? lines[0] : undefined;
  if (header !== undefined && !historyHeader.startsWith(header)) {
    throw new Error(`bench-results/history.csv has columns this bench does not write in that order: ${header}`);
  }
  const missing = historyColumns.length - (header ?? historyHeader).split(",").length;
  const rows = (header === undefined ? lines : lines.slice(1)).map((row) => row + ",".repeat(missing));
  rows.push(historyRow(r, commit));
  rows.sort();
  return `${[historyHeader, ...rows].join("\n")}\n`;
}
