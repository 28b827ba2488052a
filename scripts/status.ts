/**
 * `npm run status`: for the stack that `npm start` runs on DATA_DIR (default .data), each
 * service's readiness, consumer lag, outbox backlog and dead letters, read from its /readyz and
 * /metrics on the ports that stack chose (DATA_DIR/stack.json).
 */
import { metricValue, parseMetrics } from "@ticketforge/common";
import { dataDirFrom, findRunningStack } from "./launcher/running-stack";
import { services } from "./launcher/stack";

export interface ServiceStatus {
  service: string;
  url: string;
  health: "ready" | "not ready" | "down";
  /** Messages not yet delivered to the service's durables, and delivered but not acked. */
  pending?: number;
  ackPending?: number;
  outboxRows?: number;
  outboxOldestSeconds?: number;
  deadLetters?: number;
  requests?: number;
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

/** Reads one service; a service that does not answer is "down", with no figures. */
export async function serviceStatus(service: string, url: string, timeoutMs = 2_000): Promise<ServiceStatus> {
  const [ready, metrics] = await Promise.all([get(`${url}/readyz`, timeoutMs), get(`${url}/metrics`, timeoutMs)]);
  const health = !ready ? "down" : ready.status === 200 ? "ready" : "not ready";
  if (!metrics || metrics.status !== 200) return { service, url, health };
  const samples = parseMetrics(metrics.text);
  return {
    service,
    url,
    health,
    pending: metricValue(samples, "tf_consumer_pending_messages"),
    ackPending: metricValue(samples, "tf_consumer_ack_pending_messages"),
    outboxRows: metricValue(samples, "tf_outbox_pending_rows"),
    outboxOldestSeconds: metricValue(samples, "tf_outbox_oldest_pending_age_seconds"),
    deadLetters: metricValue(samples, "tf_dead_letters"),
    requests: metricValue(samples, "tf_http_request_duration_seconds_count"),
  };
}

export function formatStatus(rows: ServiceStatus[]): string {
  const n = (v: number | undefined, digits = 0) => (v === undefined ? "-" : v.toFixed(digits));
  const table = [
    ["service", "health", "lag", "ack pending", "outbox", "oldest (s)", "dead letters", "requests"],
    ...rows.map((r) => [
      r.service,
      r.health,
      n(r.pending),
      n(r.ackPending),
      n(r.outboxRows),
      n(r.outboxOldestSeconds, 1),
      n(r.deadLetters),
      n(r.requests),
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const render = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  return [render(table[0]), widths.map((w) => "─".repeat(w)).join("  "), ...table.slice(1).map(render)].join("\n");
}

async function main() {
  const stack = findRunningStack(dataDirFrom(process.env));
  if ("missing" in stack) {
    process.stderr.write(`${stack.missing}\n`);
    process.exitCode = 1;
    return;
  }
  const ports = stack.ports;
  const rows = await Promise.all(services.map((s) => serviceStatus(s, `http://127.0.0.1:${ports[s]}`)));
  process.stdout.write(`${formatStatus(rows)}\n`);
  const problems = rows.filter((r) => r.health !== "ready" || (r.deadLetters ?? 0) > 0);
  if (rows.every((r) => r.health === "down"))
    process.stdout.write(`\nNothing answers, though the stack's launcher (process ${stack.pid}) runs: is it still starting?\n`);
  else if (rows.some((r) => (r.deadLetters ?? 0) > 0)) process.stdout.write("\nDead letters waiting: npm run dead-letters lists them.\n");
  process.exitCode = problems.length > 0 ? 1 : 0;
}

if (require.main === module) void main();
