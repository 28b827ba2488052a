/**
 * What the tools that run the stack need of common (the launcher starts nats-server with the
 * services' accounts, provisions JetStream, logs, and gives back its start-up heap), without the
 * services' web, database and event-handling code: the launcher lives as long as the stack, and
 * loading the whole index would keep about 15 MB of heap in it for nothing.
 */
export { createLogger, type Logger } from "./logger";
export { natsAdminUser, natsAuthorizationBlock, newNatsPassword, type BusUser } from "./bus/authorization";
export { provisionJetStream } from "./bus/provision";
export { compactHeap } from "./heap";
