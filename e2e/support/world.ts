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
    broker = await Broker.connect(stack.natsUrl, stack.natsAdmin);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    stack,
    market: new Marketplace(stack.baseUrl),
    broker,
    caughtUp: async (timeoutMs = 30_000) => {
      await eventually(
        async () => {
          const busy = await broker.backlog();
          if (busy.length > 0) throw new Error(`consumers still busy: ${JSON.stringify(busy)}`);
          return true;
        },
        timeoutMs,
        100,
      );
    },
    stop: async () => {
      await broker.close().catch(() => undefined);
      await stack.stop();
    },
  };
}

/**
 * The world of one test file, started before its tests and stopped after them: call it at the
 * top of the file, use its fields inside tests.
 */
export function worldUnderTest(options: Parameters<typeof startStack>[0] = {}): World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld(options);
  }, 240_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);
  const started = (): World => {
    if (!world) throw new Error("the world is not started yet: use it inside tests and hooks");
    return world;
  };
  return {
    get stack() {
      return started().stack;
    },
    get market() {
      return started().market;
    },
    get broker() {
      return started().broker;
    },
    caughtUp: (timeoutMs) => started().caughtUp(timeoutMs),
    stop: () => started().stop(),
  };
}
