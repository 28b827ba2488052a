export * from "./server";
export * from "./wait";
export * from "./harness";
export * from "./cluster";
export * from "./cluster-config";
