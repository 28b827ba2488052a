const { withDatabase } = require("../scripts/jest/with-database.js");
// every response a route test receives is checked against the OpenAPI document (docs/openapi.json)
module.exports = withDatabase({
  ...require("../jest.preset.js"),
  displayName: "passes",
  rootDir: __dirname,
  setupFilesAfterEnv: ["@ticketforge/common/testing/api-check"],
});
