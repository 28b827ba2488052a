/**
 * The nats-server processes (one, or a cluster) without the index's test support (the event
 * recorder and the service harness, which load the whole common package and its test helpers):
 * what the launcher, which lives as long as the stack, imports.
 */
export * from "./server";
export * from "./cluster";
export * from "./cluster-config";
