module.exports = { ...require("../jest.preset.js"), displayName: "expiration", rootDir: __dirname };
