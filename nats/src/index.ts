export * from "./server";
export * from "./wait";
export * from "./cluster";
export * from "./cluster-config";
