import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { initTracing } from "../telemetry/tracing";

/**
 * Records every span of this process in memory. Call it before starting any service: the
 * process has one tracer provider and the first set-up wins. Each span's instrumentation scope
 * is the service that made it.
 */
export async function recordSpans(): Promise<InMemorySpanExporter> {
  const exporter = new InMemorySpanExporter();
  await initTracing({ service: "test", spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return exporter;
}

export type { ReadableSpan };

/** One sample of a /metrics page: its name and labels, and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text format (what GET /metrics answers). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
