module.exports = { ...require("../jest.preset.js"), displayName: "tickets", rootDir: __dirname };
