// Node first: an older one fails below with messages that do not say why (scripts/check-node.js).
require("./scripts/check-node");

// Type-checking happens once, in `npm test`'s tsc run (scripts/build.js); jest only strips types with swc.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // Jest's default is one worker less than the cores: on a 2-core machine one, so every file ran in
  // turn. The long files mostly wait (namespaces, sshd, HTTP), so more workers than cores overlap
  // them with the CPU-bound ones (one run each on the shared 2-core machine: 99 s with one worker,
  // 66 s with two, 36 s with three); their address blocks are per file (tests/support/namespaces.ts).
  maxWorkers: Math.max(3, require("node:os").availableParallelism()),
  // Loading the Pulumi SDK and providers in a fresh module registry takes 1-3 s of CPU; on a shared,
  // busy 2-core machine the first test of a file went over jest's 5 s default.
  testTimeout: 30_000,
  globalSetup: "<rootDir>/tests/support/global-setup.js",
  // the longest files first on a run without jest's timings (a fresh clone, CI), from the recorded times
  testSequencer: "<rootDir>/tests/support/sequencer.js",
  reporters: ["default", "<rootDir>/tests/support/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2023" }, module: { type: "commonjs" } }],
  },
};
