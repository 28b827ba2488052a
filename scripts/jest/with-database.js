// The settings of a project whose suites need PostgreSQL: one server per test run (database.ts).
const path = require("node:path");
module.exports.withDatabase = (config) => ({
  ...config,
  globalSetup: path.join(__dirname, "global-setup.ts"),
  globalTeardown: path.join(__dirname, "global-teardown.ts"),
});
