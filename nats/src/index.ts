export * from "./server";
export * from "./wait";
export * from "./harness";
