module.exports = { ...require("../jest.preset.js"), displayName: "payments", rootDir: __dirname, setupFilesAfterEnv: ["@ticketforge/common/testing/api-check"] };
