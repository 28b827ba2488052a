import { Bus, type Logger } from "@ticketforge/common";

/**
 * The examples' connection to the server NATS_URL names (with NATS_USER / NATS_PASSWORD when it
 * has accounts). No default port: another nats-server than the one meant may listen there.
 */
export function connectFromEnv(name: string, log: Logger): Promise<Bus> {
  if (!process.env.NATS_URL)
    throw new Error("Set NATS_URL (and NATS_USER / NATS_PASSWORD if the server has accounts) to the server to use");
  return Bus.connect({ url: process.env.NATS_URL, name, log, user: process.env.NATS_USER, password: process.env.NATS_PASSWORD });
}
