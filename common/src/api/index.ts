// The HTTP API's contract: schemas, their types, the endpoint table and its OpenAPI document.
// Imports zod only, so the web app may import it in browser code.
export * from "./schemas";
export * from "./operations";
export * from "./openapi";
export * from "./door-code";
