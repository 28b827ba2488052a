/** Errors that map to an HTTP response. Every response has the shape {errors: [{message, field?}]}. */
export interface ErrorItem {
  message: string;
  field?: string;
}

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  serialize(): ErrorItem[] {
    return [{ message: this.message }];
  }
}

export class BadRequestError extends HttpError {
  readonly statusCode = 400;
}

export class RequestValidationError extends HttpError {
  readonly statusCode = 400;
  constructor(readonly items: ErrorItem[]) {
    super(items.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; "));
  }
  override serialize(): ErrorItem[] {
    return this.items;
  }
}

export class NotAuthorizedError extends HttpError {
  readonly statusCode = 401;
  constructor(message = "Not authorized") {
    super(message);
  }
}

export class NotFoundError extends HttpError {
  readonly statusCode = 404;
  constructor(message = "Not found") {
    super(message);
  }
}

export class PayloadTooLargeError extends HttpError {
  readonly statusCode = 413;
  constructor(message = "Request body is too large") {
    super(message);
  }
}

export class TooManyRequestsError extends HttpError {
  readonly statusCode = 429;
  constructor(message = "Too many requests, try again later") {
    super(message);
  }
}

export class ServiceUnavailableError extends HttpError {
  readonly statusCode = 503;
  /** Sent as Retry-After: when asking again is worth it. */
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}

/** Signed in, but not the one allowed to do this (passes: only a ticket's seller checks it in). */
export class ForbiddenError extends HttpError {
  readonly statusCode = 403;
}

/** The request lost to something already done (passes: a pass admitted once already). */
export class ConflictError extends HttpError {
  readonly statusCode = 409;
}

/** What the request names existed but is gone for good (passes: a transferred, revoked pass). */
export class GoneError extends HttpError {
  readonly statusCode = 410;
}
