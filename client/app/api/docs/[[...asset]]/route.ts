// /api/docs: Swagger UI over /api/openapi.json, from the swagger-ui-dist package (no CDN, so it
// works offline). Its two files are read from node_modules, hence the tracing entry in next.config.
import fs from "node:fs/promises";
import path from "node:path";

export const dynamic = "force-dynamic";

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TicketForge API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

// A file, not an inline script, so a Content-Security-Policy without 'unsafe-inline' allows it.
const init = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

async function readAsset(name: string): Promise<Buffer> {
  // next dev and `next start` run in client/ (packages hoisted to the repository root); the
  // standalone server runs beside its own node_modules
  // (traced by next.config's outputFileTracingIncludes, so the bundler need not follow these paths)
  const cwd = process.cwd();
  for (const dir of [
    path.join(/*turbopackIgnore: true*/ cwd, "node_modules"),
    path.join(/*turbopackIgnore: true*/ cwd, "..", "node_modules"),
  ]) {
    try {
      return await fs.readFile(path.join(/*turbopackIgnore: true*/ dir, "swagger-ui-dist", name));
    } catch {
      // try the next place
    }
  }
  throw new Error(`swagger-ui-dist/${name} not found`);
}

export async function GET(_req: Request, { params }: { params: Promise<{ asset?: string[] }> }) {
  const { asset } = await params;
  const name = asset?.join("/");
  if (!name) return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  if (name === "init.js") return new Response(init, { headers: { "content-type": "text/javascript; charset=utf-8" } });
  const type = assets[name];
  if (!type) return Response.json({ errors: [{ message: "Not found" }] }, { status: 404 });
  return new Response(new Uint8Array(await readAsset(name)), {
    headers: { "content-type": type, "cache-control": "public, max-age=86400" },
  });
}
