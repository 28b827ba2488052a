import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { ValidateFunction } from "ajv";
import { apiErrors, apiOperations, openApiDocument, type ApiOperation } from "../api";

/**
 * Checks HTTP answers against the OpenAPI document, so the document cannot drift from the code:
 * the service projects' Jest set-up (`installApiResponseCheck`) sends every response their
 * supertest requests receive through `checkApiResponse`, and a response the document does not
 * describe fails the request that got it.
 */

const documentId = "openapi.json";
const document = openApiDocument();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// OpenAPI 3.1 schemas are JSON Schema 2020-12; the whole document is one schema resource, so
// `#/components/schemas/…` references resolve as in any OpenAPI tool.
ajv.addSchema(document, documentId);

/**
 * Endpoints every service serves on its own port for Kubernetes and Prometheus (health, metrics);
 * the gateway and ingress route only /api/*, so they are not part of the public API.
 */
const operational = new Set(["/healthz", "/readyz", "/metrics"]);

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
const validators = new Map<string, ValidateFunction>();
function validatorAt(path: string): ValidateFunction {
  let v = validators.get(path);
  if (!v) {
    v = ajv.compile({ $ref: `${documentId}#/${path}` });
    validators.set(path, v);
  }
  return v;
}

const templates = apiOperations.map((op) => ({
  op,
  pattern: new RegExp(`^${op.path.replace(/\{\w+\}/g, "[^/]+")}/?$`),
  literal: !op.path.includes("{"),
}));

/** The documented operation for a method and a URL path; a literal path wins over a template. */
export function operationFor(method: string, urlPath: string): ApiOperation | undefined {
  const matches = templates.filter((t) => t.op.method === method.toLowerCase() && t.pattern.test(urlPath));
  return (matches.find((t) => t.literal) ?? matches[0])?.op;
}

export interface ObservedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body text. */
  text: string;
}

/** What the document says is wrong with a response; empty when it conforms. */
export function checkApiResponse(method: string, url: string, res: ObservedResponse): string[] {
  const urlPath = new URL(url, "http://service").pathname;
  const where = `${method.toUpperCase()} ${urlPath} → ${res.status}`;
  if (operational.has(urlPath)) return [];
  const op = operationFor(method, urlPath);
  if (!op) {
    // an unknown route is the service's 404; any other answer is an endpoint the document misses
    const body = parseJson(res.text);
    if (res.status === 404 && apiErrors.safeParse(body).success) return [];
    return [`${where}: this endpoint is not in the OpenAPI document (common/src/api/operations.ts)`];
  }
  const responses = (
    document.paths as Record<
      string,
      Record<string, { responses: Record<string, { content?: unknown; headers?: Record<string, { required: boolean }> }> }>
    >
  )[op.path][op.method].responses;
  const documented = responses[String(res.status)];
  if (!documented) return [`${where}: status ${res.status} is not documented (documented: ${Object.keys(responses).join(", ")})`];

  const problems: string[] = [];
  for (const [name, header] of Object.entries(documented.headers ?? {})) {
    if (header.required && res.headers[name.toLowerCase()] === undefined) problems.push(`${where}: header ${name} is missing`);
  }
  if (!documented.content) {
    if (res.text) problems.push(`${where}: the document describes no body, got ${JSON.stringify(res.text.slice(0, 200))}`);
    return problems;
  }
  const type = String(res.headers["content-type"] ?? "");
  if (!type.startsWith("application/json")) return [...problems, `${where}: content type ${type || "(none)"}, documented application/json`];
  const validate = validatorAt(
    pointer("paths", op.path, op.method, "responses", String(res.status), "content", "application/json", "schema"),
  );
  if (!validate(parseJson(res.text))) {
    for (const e of validate.errors ?? [])
      problems.push(`${where}: body${e.instancePath} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`);
  }
  return problems;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class ApiDocumentMismatch extends Error {
  override name = "ApiDocumentMismatch";
}

let installed = false;

/**
 * Makes every supertest request check its response against the document: a response that does
 * not conform rejects the request with the reasons, as a failed `.expect()` would.
 */
export function installApiResponseCheck(): void {
  if (installed) return;
  installed = true;
  const { Test } = require("supertest") as { Test: { prototype: Record<string, unknown> } };
  type Assert = (
    this: { method: string; url: string },
    resError: unknown,
    res: ObservedResponse | undefined,
    fn?: (err: unknown, res: unknown) => void,
  ) => void;
  const original = Test.prototype.assert as Assert;
  const checked: Assert = function (resError, res, fn) {
    if (res && fn) {
      const problems = checkApiResponse(this.method, this.url, res);
      if (problems.length > 0) {
        fn.call(this, new ApiDocumentMismatch(`the response does not match the OpenAPI document:\n  ${problems.join("\n  ")}`), res);
        return;
      }
    }
    original.call(this, resError, res, fn);
  };
  Test.prototype.assert = checked;
}
