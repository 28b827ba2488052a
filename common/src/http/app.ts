import express, { type Express } from "express";
import type { Logger } from "pino";
import { sessionReader } from "./auth";
import { errorHandler, notFound } from "./error-handler";
import { trace, type Tracer } from "@opentelemetry/api";
import { observeHttp } from "./observe";
import type { ServiceMetrics } from "../telemetry/metrics";
import { securityHeaders } from "./security-headers";

export interface HttpOptions {
  log: Logger;
  /** The public key (PEM) that session tokens are verified with. */
  jwtPublicKey: string;
  /** COOKIE_SECURE: the session cookie is `__Host-session`, and only that one is read. */
  cookieSecure?: boolean;
  /** Express "trust proxy": a hop count, "loopback", a list of addresses. */
  trustProxy: string;
  /** True for a session that was signed out (its id revoked). */
  isRevoked?: (sessionId: string) => boolean;
  /** Readiness: true when the database and NATS answer. */
  ready: () => Promise<boolean>;
  bodyLimit?: string;
  /** Spans of the service's requests (the no-op tracer when absent). */
  tracer?: Tracer;
  /** Served at GET /metrics, and fed the request durations. */
  metrics?: ServiceMetrics;
}

/**
 * The shape every service's app shares: JSON body (size-limited), the session cookie (verified
 * when a route asks for the user: requireAuth, sessionUser), health endpoints, then the service's
 * routes, then 404 and the error handler. Every request is traced, timed and logged once;
 * /metrics is for Prometheus on the service port, and the gateway and ingress route only /api/*,
 * so it is never public.
 */
export function createHttpApp(options: HttpOptions, mountRoutes: (app: Express) => void): Express {
  const app = express();
  app.disable("x-powered-by");
  // Express would hash every JSON answer for an ETag. Nobody revalidates API answers (the web
  // app renders on the server, fresh each time), so the hash was pure cost: ~7 % of a listing
  // request's CPU, measured against the same route without it.
  app.set("etag", false);
  app.set("trust proxy", parseTrustProxy(options.trustProxy));
  app.set("query parser", "simple");
  app.use(observeHttp({ log: options.log, tracer: options.tracer ?? trace.getTracer("http"), metrics: options.metrics }));
  app.use(securityHeaders);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const ok = await options.ready().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "not ready" });
  });
  const { metrics } = options;
  if (metrics) {
    app.get("/metrics", async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  app.use(express.json({ limit: options.bodyLimit ?? "100kb" }));
  app.use(sessionReader(options.jwtPublicKey, options.isRevoked, options.cookieSecure));
  mountRoutes(app);
  app.use(notFound);
  app.use(errorHandler(options.log));
  return app;
}

export function parseTrustProxy(value: string): boolean | number | string {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
