module.exports = { ...require("../jest.preset.js"), displayName: "auth", rootDir: __dirname, setupFilesAfterEnv: ["@ticketforge/common/testing/api-check"] };
