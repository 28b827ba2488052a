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

export { metricValue, parseMetrics, type Sample } from "../telemetry/metrics";
