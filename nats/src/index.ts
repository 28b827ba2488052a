export * from "./servers";
export * from "./wait";
export * from "./harness";
