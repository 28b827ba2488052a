const { withDatabase } = require("../scripts/jest/with-database.js");
module.exports = withDatabase({ ...require("../jest.preset.js"), displayName: "scripts", rootDir: __dirname });
