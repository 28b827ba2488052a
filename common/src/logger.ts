import pino, { type Logger } from "pino";

export type { Logger };

/**
 * JSON logs for machines; in an interactive terminal (and not in production) they are
 * pretty-printed so a developer can read them.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== "production" && !process.env.JEST_WORKER_ID;
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } } } : {}),
  });
}
