/**
 * True when `err` says that the database cannot be reached right now (down, restarting, shutting
 * down, the connection lost), rather than that it refused a statement: the same request may work
 * in a few seconds. The HTTP API answers it with a 503 and Retry-After, and a listener's event is
 * retried without counting toward the dead-letter bound. Written for the error shapes of both
 * drivers the services may use: `pg` (Node's socket errors, "Connection terminated…" messages)
 * and postgres.js (its CONNECTION_* codes), and PostgreSQL's own SQLSTATEs.
 */
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, syscall, errors } = e as { code?: unknown; message?: unknown; syscall?: unknown; errors?: unknown };
    if (typeof code === "string") {
      if (socketCodes.has(code) || driverCodes.has(code)) return true;
      // the server's Unix socket is gone while it is down
      if (code === "ENOENT" && syscall === "connect") return true;
      // class 08: connection exception; 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up, recovering)
      if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code)) return true;
      // 53300 too many connections (the server's max_connections, or the role's limit): a
      // connection frees up as soon as another client's work ends
      if (code === "53300") return true;
    }
    if (typeof message === "string" && pgMessages.some((m) => message.startsWith(m))) return true;
    // Node's connect to several addresses at once fails with all their errors
    if (Array.isArray(errors) && errors.length > 0 && errors.every(databaseUnavailable)) return true;
  }
  return false;
}

const socketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
/** postgres.js */
const driverCodes = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]);
/** pg: thrown by the client and the pool without a code */
const pgMessages = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
  "Connection closed",
];
