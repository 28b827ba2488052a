// One Jest run over every workspace; `npm test` (scripts/test.mjs) runs it.
const projects = ["common", "nats", "auth", "tickets", "orders", "payments", "expiration", "client", "infra", "e2e"];
const fs = require("node:fs");
module.exports = {
  projects: projects.filter((p) => fs.existsSync(`${__dirname}/${p}/jest.config.js`)).map((p) => `<rootDir>/${p}`),
};
