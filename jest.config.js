// Node first: an older one fails below with messages that do not say why (scripts/check-node.js).
require("./scripts/check-node");

// Type-checking happens once, in `npm test`'s tsc run (scripts/build.js); jest only strips types with swc.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  globalSetup: "<rootDir>/tests/support/global-setup.js",
  reporters: ["default", "<rootDir>/tests/support/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2023" }, module: { type: "commonjs" } }],
  },
};
