import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { databaseUnavailable } from "../db/unavailable";
import { HttpError, NotFoundError, ServiceUnavailableError } from "../errors";

export function notFound(req: Request, _res: Response, next: NextFunction) {
  next(new NotFoundError(`Route not found: ${req.method} ${req.path}`));
}

/** What a 503 asks the client to wait: a database restarts and recovers within seconds. */
const unavailableRetrySeconds = 2;

/** Maps every error to the API's error shape; a real bug is logged with its stack and never leaked. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      if (err.statusCode === 429 && !res.getHeader("Retry-After")) res.setHeader("Retry-After", "60");
      if (err instanceof ServiceUnavailableError && !res.getHeader("Retry-After"))
        res.setHeader("Retry-After", String(err.retryAfterSeconds));
      if (err.statusCode === 503 && !res.getHeader("Retry-After")) res.setHeader("Retry-After", String(unavailableRetrySeconds));
      res.status(err.statusCode).json({ errors: err.serialize() });
      return;
    }
    const bodyError = err as { type?: string; status?: number };
    if (bodyError?.type === "entity.parse.failed") {
      res.status(400).json({ errors: [{ message: "Malformed JSON in request body" }] });
      return;
    }
    if (bodyError?.type === "entity.too.large") {
      res.status(413).json({ errors: [{ message: "Request body is too large" }] });
      return;
    }
    if (typeof bodyError?.status === "number" && bodyError.status >= 400 && bodyError.status < 500) {
      res.status(bodyError.status).json({ errors: [{ message: (err as Error).message || "Bad request" }] });
      return;
    }
    if (databaseUnavailable(err)) {
      // a dependency that is down is no bug: the client may try again once it is back
      log.warn({ err: (err as Error).message, method: req.method, url: req.originalUrl }, "database unavailable; answered 503");
      res.setHeader("Retry-After", String(unavailableRetrySeconds));
      res
        .status(503)
        .json({ errors: [{ message: "The service is briefly unavailable (its database cannot be reached); try again shortly" }] });
      return;
    }
    log.error({ err, method: req.method, url: req.originalUrl }, "unhandled error");
    res.status(500).json({ errors: [{ message: "Something went wrong" }] });
  };
}
