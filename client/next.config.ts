import path from "node:path";
import type { NextConfig } from "next";
import { staticSecurityHeaders } from "./lib/security-headers";

// Dependencies are hoisted to the workspace root, so tracing and Turbopack must see the
// whole repository; the standalone output then contains client/server.js.
const repoRoot = path.join(__dirname, "..");

const config: NextConfig = {
  output: "standalone",
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  poweredByHeader: false,
  // the Content-Security-Policy, with its per-page nonce, comes from proxy.ts
  headers: async () => [{ source: "/:path*", headers: staticSecurityHeaders }],
  // Tests live beside the app and import the e2e harness; the build checks the app only.
  typescript: { tsconfigPath: "tsconfig.build.json" },
};

export default config;
