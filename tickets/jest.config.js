module.exports = { ...require("../jest.preset.js"), displayName: "tickets", rootDir: __dirname, setupFilesAfterEnv: ["@ticketforge/common/testing/api-check"] };
