import { z } from "zod";
import { apiOperations, retryLater, type ApiOperation, type ApiResponse } from "./operations";
import { apiErrors, currentUserReply, order, orderList, payment, signoutReply, ticket, ticketList, user } from "./schemas";

type Json = Record<string, unknown>;

/** Response shapes get names in `components.schemas`, so viewers show them once. */
const named: [string, z.ZodType][] = [
  ["Errors", apiErrors],
  ["User", user],
  ["CurrentUser", currentUserReply],
  ["SignedOut", signoutReply],
  ["Ticket", ticket],
  ["TicketList", ticketList],
  ["Order", order],
  ["OrderList", orderList],
  ["Payment", payment],
];

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  // Input schemas carry transforms (trim, lower case, "20.50" → 20.5): what a client sends is
  // their input side. Refinements have no JSON Schema form; the 400's message names them.
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
  return rest;
}

function responseSchema(schema: z.ZodType): Json {
  const name = named.find(([, s]) => s === schema)?.[0];
  return name ? { $ref: `#/components/schemas/${name}` } : jsonSchema(schema, "output");
}

function response(r: ApiResponse): Json {
  return {
    description: r.description,
    ...(r.headers && {
      headers: Object.fromEntries(
        Object.entries(r.headers).map(([h, v]) => [
          h,
          { description: v.description, required: v.required ?? false, schema: { type: "string" } },
        ]),
      ),
    }),
    ...(r.schema && { content: { "application/json": { schema: responseSchema(r.schema) } } }),
  };
}

/** What every endpoint may answer besides its own responses: the shared middlewares' refusals. */
function sharedResponses(op: ApiOperation): Record<number, ApiResponse> {
  const shared: Record<number, ApiResponse> = {};
  if (op.body) {
    shared[400] = { schema: apiErrors, description: "Malformed JSON in the request body" };
    shared[413] = { schema: apiErrors, description: "Request body is too large" };
  }
  if (op.session === true) shared[401] = { schema: apiErrors, description: "Not signed in" };
  if (op.idempotent) {
    shared[409] = { schema: apiErrors, description: "A request with this Idempotency-Key is still at work", headers: retryLater };
    shared[422] = { schema: apiErrors, description: "This Idempotency-Key was used with another request body" };
  }
  // every endpoint needs its database: while it restarts the answer is a 503, never a 500
  shared[503] = { schema: apiErrors, description: "The service's database cannot be reached (restarting)", headers: retryLater };
  return shared;
}

function operation(op: ApiOperation): Json {
  const params: Json[] = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (op.query) {
    const query = jsonSchema(op.query, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      params.push({ name, in: "query", required: query.required?.includes(name) ?? false, description, schema: rest });
    }
  }
  if (op.idempotent) {
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "One key per attempt (1 to 255 visible ASCII characters, e.g. a UUID): a retry with the same key and body gets the first " +
        "answer again (header `Idempotent-Replayed: true`) and never does the work twice; kept for 24 hours.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  }
  const responses = { ...sharedResponses(op), ...op.responses };
  return {
    operationId: `${op.method}${op.path
      .replace(/\/api/, "")
      .replace(/\{(\w+)\}/g, "By-$1")
      .replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
    tags: [op.service],
    summary: op.summary,
    ...(op.description && { description: op.description }),
    ...(op.session === true && { security: [{ session: [] }] }),
    ...(op.session === "optional" && { security: [{}, { session: [] }] }),
    ...(params.length > 0 && { parameters: params }),
    ...(op.body && {
      requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } },
    }),
    responses: Object.fromEntries(Object.entries(responses).map(([status, r]) => [status, response(r)])),
  };
}

/**
 * The OpenAPI 3.1 document of the public HTTP API, generated from the schemas the routes validate
 * with and answer in (`./schemas.ts`) and the endpoint table (`./operations.ts`).
 */
export function openApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const op of apiOperations) paths[op.path] = { ...paths[op.path], [op.method]: operation(op) };
  return {
    openapi: "3.1.0",
    info: {
      title: "TicketForge API",
      version: "1.0.0",
      description:
        "The marketplace's HTTP API, one origin for every service. Errors always have the shape " +
        '`{"errors":[{"message":"…","field":"price"}]}` (`field` only on validation errors). ' +
        "Money is in currency units (20.5). To try the signed-in endpoints here, call sign-up or sign-in first: the " +
        "browser then sends the session cookie with every call. The design: docs/design.md §3 in the repository.",
    },
    tags: [
      { name: "auth", description: "Sign-up, sign-in, sign-out, current user (`/api/users`)" },
      { name: "tickets", description: "Sellers list and edit tickets (`/api/tickets`)" },
      { name: "orders", description: "Buyers reserve tickets (`/api/orders`)" },
      { name: "payments", description: "Buyers pay their orders (`/api/payments`)" },
    ],
    paths,
    components: {
      schemas: Object.fromEntries(named.map(([name, schema]) => [name, jsonSchema(schema, "output")])),
      securitySchemes: {
        session: {
          type: "apiKey",
          in: "cookie",
          name: "session",
          description:
            "Set by sign-up and sign-in (named `__Host-session` where the site is served over HTTPS); auth signs the JWT inside " +
            "with its private key (EdDSA), every service verifies it with the public key",
        },
      },
    },
  };
}
