// Shared Jest settings: every workspace's jest.config.js spreads this.
// @swc/jest compiles TypeScript ~10x faster than ts-jest; kysely and jose ship ESM only, so they are compiled too.
module.exports = {
  testEnvironment: "node",
  transform: {
    "^.+\\.(t|j)sx?$": [
      "@swc/jest",
      {
        jsc: {
          parser: { syntax: "typescript", tsx: true },
          target: "es2022",
          transform: { react: { runtime: "automatic" } },
        },
        module: { type: "commonjs" },
      },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!(kysely|jose)/)"],
  testMatch: ["<rootDir>/**/*.test.ts", "<rootDir>/**/*.test.tsx"],
  testPathIgnorePatterns: ["/node_modules/", "/.next/", "/dist/"],
  testTimeout: 30_000,
};
