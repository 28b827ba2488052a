// Component tests opt into jsdom with a `/** @jest-environment jsdom */` docblock; the browser
// journey runs in node and drives Chromium against the whole stack.
const { withDatabase } = require("../scripts/jest/with-database.js");
module.exports = withDatabase({
  ...require("../jest.preset.js"),
  displayName: "client",
  rootDir: __dirname,
  // The build output holds a copy of package.json that would clash with this one.
  modulePathIgnorePatterns: ["<rootDir>/.next/"],
});
