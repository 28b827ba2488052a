import path from "node:path";
import type { NextConfig } from "next";

// Dependencies are hoisted to the workspace root, so tracing and Turbopack must see the
// whole repository; the standalone output then contains client/server.js.
const repoRoot = path.join(__dirname, "..");

const config: NextConfig = {
  output: "standalone",
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  poweredByHeader: false,
  // The API contract (`@ticketforge/common/api`) is TypeScript in a workspace package.
  transpilePackages: ["@ticketforge/common"],
  // /api/docs reads Swagger UI's files at run time; the standalone output must carry them.
  outputFileTracingIncludes: {
    "/api/docs/**": ["../node_modules/swagger-ui-dist/swagger-ui.css", "../node_modules/swagger-ui-dist/swagger-ui-bundle.js"],
  },
  // On every answer, static files included. The Content-Security-Policy, with its per-page nonce,
  // comes from proxy.ts. (Written out here: next start compiles this file alone, without ./lib.)
  headers: async () => [
    {
      source: "/:path*",
      headers: [
        { key: "X-Content-Type-Options", value: "nosniff" },
        { key: "Referrer-Policy", value: "same-origin" },
        { key: "X-Frame-Options", value: "DENY" },
      ],
    },
  ],
  // Tests live beside the app and import the e2e harness; the build checks the app only.
  typescript: { tsconfigPath: "tsconfig.build.json" },
};

export default config;
