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
  return destination ? pino(options, destination) : pino(options);
}
