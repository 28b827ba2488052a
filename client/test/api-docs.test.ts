import { apiOperations } from "@ticketforge/common/api";
import { GET as openApi } from "../app/api/openapi.json/route";
import { GET as docs } from "../app/api/docs/[[...asset]]/route";

// The web app serves the API's documentation: every path outside the services' prefixes reaches
// it, locally through the gateway and in the cluster through the router.
const asset = (...parts: string[]) =>
  docs(new Request("http://app/api/docs"), { params: Promise.resolve({ asset: parts.length ? parts : undefined }) });

describe("GET /api/openapi.json", () => {
  test("When asked for the API document, then it is OpenAPI 3.1 listing every endpoint", async () => {
    const res = openApi();
    expect(res.headers.get("content-type")).toContain("application/json");
    const document = (await res.json()) as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toBe("3.1.0");
    for (const op of apiOperations)
      expect([op.path, Object.keys(document.paths[op.path] ?? {})]).toEqual([op.path, expect.arrayContaining([op.method])]);
  });
});

describe("GET /api/docs", () => {
  test("When a browser opens /api/docs, then it gets the viewer page loading only same-origin files", async () => {
    const res = await asset();
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.sort()).toEqual(["/api/docs/init.js", "/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"]);
  });

  test("When the viewer loads its files, then each comes from the installed swagger-ui-dist and points at /api/openapi.json", async () => {
    const bundle = await asset("swagger-ui-bundle.js");
    expect([bundle.status, bundle.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
    expect(await bundle.text()).toContain("SwaggerUIBundle");
    const css = await asset("swagger-ui.css");
    expect([css.status, css.headers.get("content-type")]).toEqual([200, "text/css; charset=utf-8"]);
    expect(await (await asset("init.js")).text()).toContain('url: "/api/openapi.json"');
  });

  test("When another file is asked for, then 404 and nothing is read from disk", async () => {
    for (const name of [["package.json"], ["..", "..", "package.json"], ["index.html"]]) {
      expect((await asset(...name)).status).toBe(404);
    }
  });
});
