import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  AlwaysOnSampler,
  SamplingDecision,
  type Sampler,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { resourceFromAttributes } from "@opentelemetry/resources";

export { SpanKind, SpanStatusCode, type Span, type Tracer, type Context };

/**
 * Without an exporter nothing is recorded, yet every span still gets its own ids and passes the
 * trace on (HTTP → outbox → NATS → consumer), so log lines of one purchase share a trace id
 * in every service whether or not traces are collected.
 */
const propagateOnly: Sampler = {
  shouldSample: () => ({ decision: SamplingDecision.NOT_RECORD }),
  toString: () => "PropagateOnly",
};

let provider: NodeTracerProvider | undefined;

export interface TracingOptions {
  /** service.name of the spans, unless OTEL_SERVICE_NAME says otherwise. */
  service: string;
  /** Processors besides the OTLP exporter (tests record spans in memory). */
  spanProcessors?: SpanProcessor[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Sets up the process's tracer provider, once: the first call wins (several services started
 * in one test process share it). Spans are exported over OTLP/HTTP only when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; the exporter
 * reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself.
 */
export async function initTracing(options: TracingOptions): Promise<void> {
  if (provider) return;
  const env = options.env ?? process.env;
  // the standard switch: no provider at all, the API's no-ops (and no trace ids in logs)
  if (env.OTEL_SDK_DISABLED === "true") return;
  const processors = [...(options.spanProcessors ?? [])];
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    // loaded only when exporting: the exporter and its protobuf machinery cost start-up time
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  if (provider) return; // another caller won while the exporter loaded
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || options.service }),
    sampler: processors.length > 0 ? new ParentBasedSampler({ root: new AlwaysOnSampler() }) : propagateOnly,
    spanProcessors: processors,
  });
  provider.register();
}

/** Sends the spans still buffered (before the process exits). */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch(() => undefined);
}

/** The ids of the active span, for log lines; empty outside any span. */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** W3C trace context of the active span (traceparent, tracestate), to store or send along. */
export function currentTraceContext(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The context a carrier (stored row, message headers, request headers) continues. */
export function contextFrom<C>(carrier: C | undefined | null, getter?: TextMapGetter<C>): Context {
  if (!carrier) return ROOT_CONTEXT;
  return getter ? propagation.extract(ROOT_CONTEXT, carrier, getter) : propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Runs `fn` in a new active span that ends when `fn` settles; a thrown error marks the span
 * failed and is re-thrown untouched.
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    if (span.isRecording()) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
    }
    throw err;
  } finally {
    span.end();
  }
}
