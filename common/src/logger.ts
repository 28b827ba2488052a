import pino, { type DestinationStream, type Logger } from "pino";
import { activeTraceIds } from "./telemetry/tracing";

export type { Logger };

/**
 * JSON logs for machines; in an interactive terminal (and not in production) they are
 * pretty-printed so a developer can read them. Each line carries the trace_id and span_id of the
 * work it belongs to, so one purchase can be followed across the services' logs.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info", destination?: DestinationStream): Logger {
  const pretty = !destination && process.stdout.isTTY && process.env.NODE_ENV !== "production" && !process.env.JEST_WORKER_ID;
  const options = {
    name: service,
    level,
    base: { service },
    mixin: activeTraceIds,
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } } } : {}),
  };
  if (destination) return pino(options, destination);
  return pretty || process.env.JEST_WORKER_ID ? pino(options) : pino(options, batchedStdout());
}

let stdout: ReturnType<typeof pino.destination> | undefined;

/**
 * Standard output written in batches: one system call for the lines of up to 200 ms (or 4 KB)
 * instead of one per line, which a CPU profile of a busy service showed at ~6 % of its time.
 * pino writes out what is left when the process exits, a crash included.
 */
function batchedStdout() {
  if (!stdout) {
    const dest = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    setInterval(() => {
      try {
        dest.flush();
      } catch {
        // closed at exit: nothing left to write
      }
    }, 200).unref();
    stdout = dest;
  }
  return stdout;
}
