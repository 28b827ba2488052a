// @ts-check
import fs from "node:fs";
import tseslint from "typescript-eslint";

// Layering: a workspace uses another only through its package (`@ticketforge/common`), never by
// reaching into its src/; the launcher and the benchmark use no test support and no service
// internals (they run services as processes).
// the services and the web app come from services.json, the one list of them
const manifest = JSON.parse(fs.readFileSync(new URL("./services.json", import.meta.url), "utf8"));
/** @type {string[]} */
const services = manifest.services.map((/** @type {{ folder: string }} */ s) => s.folder);
const workspaces = ["common", "nats", ...services, manifest.client.folder];
const intoSrc = (names) => names.map((n) => `**/${n}/src/**`);
/** The launcher and the benchmark: no test support, no service internals; `paths`: more refused imports. */
function wholeStackImports(paths = []) {
  return {
    "no-restricted-imports": [
      "error",
      {
        paths: [{ name: "@ticketforge/common/testing", message: "The launcher and the benchmark use no test support." }, ...paths],
        patterns: [
          {
            group: intoSrc(services),
            message: "The launcher and the benchmark start services as processes; they do not import their internals.",
          },
          { group: ["**/e2e/**", "**/test/**", "**/testing/**"], message: "The launcher and the benchmark use no test support." },
        ],
      },
    ],
  };
}
const layering = [
  ...workspaces.map((ws) => ({
    files: [`${ws}/**/*.{ts,tsx,mjs,js}`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: intoSrc(workspaces.filter((o) => o !== ws)),
              message: "Import another workspace through its package (@ticketforge/<name>), not its src/.",
            },
          ],
        },
      ],
    },
  })),
  {
    files: ["e2e/**/*.ts", "scripts/**/*.{ts,mjs}"],
    ignores: ["scripts/bench/**", "scripts/launcher/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: intoSrc(services), message: "Whole-stack code starts services as processes; it does not import their internals." },
          ],
        },
      ],
    },
  },
  {
    // a service publishes a domain event only through its unit of work's outbox (uow.publish);
    // bus.publish refuses domain subjects at compile time, and the raw client is refused here
    files: services.map((s) => `${s}/src/**/*.ts`),
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='publish'][callee.object.property.name=/^(js|nc)$/]",
          message: "Publish events with uow.publish inside ctx.work: the outbox makes them leave only if the work commits.",
        },
      ],
    },
  },
  { files: ["scripts/bench/**/*.ts"], rules: wholeStackImports() },
  {
    files: ["scripts/launcher/**/*.ts"],
    // the launcher lives as long as the stack: the whole index would keep the services' web and
    // database code in its heap (about 15 MB) for the few functions it uses
    rules: wholeStackImports([
      { name: "@ticketforge/common", message: "The launcher imports @ticketforge/common/stack, not the whole index." },
      { name: "@ticketforge/nats", message: "The launcher imports @ticketforge/nats/servers: the index brings test support." },
    ]),
  },
];

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/.next/**", "**/dist/**", "artifacts/**", ".data/**", "client/next-env.d.ts"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  ...layering,
  {
    files: ["**/test/**", "e2e/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
);
