// One Jest run over every workspace; `npm test` (scripts/test.mjs) runs it.
const fs = require("node:fs");
const projects = ["common", "nats", "scripts", "auth", "tickets", "orders", "payments", "expiration", "client", "infra", "e2e"];
module.exports = {
  // integration tests start real servers; a slow shared machine needs room
  testTimeout: 60_000,
  projects: projects.filter((p) => fs.existsSync(`${__dirname}/${p}/jest.config.js`)).map((p) => `<rootDir>/${p}`),
};
