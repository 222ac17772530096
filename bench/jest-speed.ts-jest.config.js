// Config override for bench/jest-speed.sh: the same tests through ts-jest's default transform,
// which type-checks every test file and what it imports (isolatedModules off).
/** @type {import('jest').Config} */
module.exports = {
  rootDir: "..",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/bench/jest-speed.tsconfig.json", diagnostics: { ignoreCodes: [151002] } }] },
};
