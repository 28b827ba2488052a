import { eventually } from "@ticketforge/nats";
import { startStack, type TestStack } from "../stack";
import { Broker } from "./broker";
import { Marketplace } from "./marketplace";

/** What one test file works with: the running marketplace, a client of it and a look at the broker. */
export interface World {
  stack: TestStack;
  market: Marketplace;
  broker: Broker;
  /** Waits until every service's durable consumer has handled everything stored so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the whole marketplace (five service processes, a real nats-server, the gateway) for one
 * test file. One per file: a stack costs ~20 s and ~1.5 GB.
 */
export async function startWorld(options: Parameters<typeof startStack>[0] = {}): Promise<World> {
  const stack = await startStack(options);
  let broker: Broker;
  try {
    broker = await Broker.connect(stack.natsUrl);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    stack,
    market: new Marketplace(stack.baseUrl),
    broker,
    caughtUp: async (timeoutMs = 30_000) => {
      await eventually(async () => {
        const busy = await broker.backlog();
        if (busy.length > 0) throw new Error(`consumers still busy: ${JSON.stringify(busy)}`);
        return true;
      }, timeoutMs, 100);
    },
    stop: async () => {
      await broker.close().catch(() => undefined);
      await stack.stop();
    },
  };
}
