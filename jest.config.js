// One Jest run over every workspace; `npm test` (scripts/test.mjs) runs it.
const fs = require("node:fs");
// the services and the web app come from services.json, the one list of them
const manifest = require("./services.json");
const projects = ["common", "nats", "scripts", ...manifest.services.map((s) => s.folder), manifest.client.folder, "infra", "e2e"];
module.exports = {
  // integration tests start real servers; a slow shared machine needs room
  testTimeout: 60_000,
  // the long suites first, also on a fresh clone
  testSequencer: "<rootDir>/scripts/jest/sequencer.js",
  projects: projects.filter((p) => fs.existsSync(`${__dirname}/${p}/jest.config.js`)).map((p) => `<rootDir>/${p}`),
};
