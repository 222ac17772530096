// Type-checking happens once, in `tsc --noEmit` (see `npm test`); jest only strips types with swc.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  reporters: ["default", "<rootDir>/tests/support/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2023" }, module: { type: "commonjs" } }],
  },
};
