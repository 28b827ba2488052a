import type { BenchResults } from "./report";

/**
 * bench-results/history.csv: one line per `npm run bench`, the run's headline figures with the
 * date, the commit it measured and the Node it ran on. latest.json holds the last run whole; the
 * history keeps the trend without a file per run.
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
] as const;

export const historyHeader = historyColumns.join(",");

const cell = (v: string | number | undefined) => {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The history line of one run; `commit` is the short hash the run measured ("" when unknown). */
export function historyRow(r: BenchResults, commit: string): string {
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
  };
  return historyColumns.map((c) => cell(values[c])).join(",");
}

/** The history file's text with the run added in date order (a header first when it is new). */
export function withRun(history: string | undefined, r: BenchResults, commit: string): string {
  const lines = (history ?? "").split("\n").filter(Boolean);
  const rows = lines[0] === historyHeader ? lines.slice(1) : lines;
  rows.push(historyRow(r, commit));
  rows.sort();
  return `${[historyHeader, ...rows].join("\n")}\n`;
}
