import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { context, INVALID_SPAN_CONTEXT, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { ServiceMetrics } from "../telemetry/metrics";

/** Probes and scrapes come every few seconds: their access lines are debug, and they start no trace. */
const quietPaths = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * First middleware of every service: continues the caller's trace (W3C traceparent) or starts
 * one, and when the response is finished records the request's duration by route template and
 * writes one access log line (method, route, status, duration, request id).
 */
export function observeHttp(options: { log: Logger; tracer: Tracer; metrics?: ServiceMetrics }): RequestHandler {
  const { log, tracer, metrics } = options;
  return (req, res, next) => {
    const started = performance.now();
    const requestId = headerValue(req.headers["x-request-id"]) ?? randomUUID();
    res.setHeader("x-request-id", requestId);
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const quiet = quietPaths.has(req.path);
    const attributes = { "http.request.method": req.method, "url.path": req.path };
    const span = quiet
      ? trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
      : tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    // 'finish' is emitted from the socket's callbacks: the handler is bound to this request's
    // trace so that its log line carries the trace id
    res.once(
      "finish",
      context.bind(ctx, () => {
        // the template (/api/orders/:id), never the path: one series per route, not per order id
        const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
        const status = res.statusCode;
        const seconds = (performance.now() - started) / 1000;
        metrics?.httpDuration.observe({ method: req.method, route, status: String(status) }, seconds);
        span.updateName(`${req.method} ${route}`);
        span.setAttributes({ "http.route": route, "http.response.status_code": status });
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        const line = { method: req.method, route, path: req.originalUrl, status, durationMs: Math.round(seconds * 10_000) / 10, requestId };
        if (quiet) log.debug(line, "request");
        else log.info(line, "request");
      }),
    );
    // The body parser keeps the request's trace by itself (raw-body binds its callback to the
    // caller's async context): binding the request and response emitters as well wrapped every
    // listener of every request, about 4 % of the service's CPU in a profile of GET /api/tickets.
    context.with(ctx, next);
  };
}

function headerValue(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  // a caller's id is echoed in logs: keep it short and printable
  return v && /^[\w.:-]{1,128}$/.test(v) ? v : undefined;
}
