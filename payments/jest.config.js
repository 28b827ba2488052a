const { withDatabase } = require("../scripts/jest/with-database.js");
module.exports = withDatabase({ ...require("../jest.preset.js"), displayName: "payments", rootDir: __dirname });
