// Ends the run with one plain line, "tests: N passed, N failed, N skipped", that any CI log
// reader understands whatever the test runner. It also records the run's figures in
// bench/out/test-run.json (gitignored), which `npm run figures` writes into docs/testing.md, so the
// documented figures are measured, never typed, and each file's wall time, which `npm run figures`
// keeps in tests/support/test-times.json for the test order of a run without jest's cache.
const { mkdirSync, readdirSync, writeFileSync } = require("node:fs");
const { availableParallelism } = require("node:os");
const { join, relative } = require("node:path");

/** *.test.ts files under dir, as jest.config.js's testMatch finds them. */
function countTestFiles(dir) {
  return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".test.ts")).length;
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
    try {
      const out = join(__dirname, "..", "..", "bench", "out");
      mkdirSync(out, { recursive: true });
      const run = {
        passed: results.numPassedTests,
        failed,
        skipped,
        files: results.numTotalTestSuites,
        seconds: Math.round((Date.now() - results.startTime) / 100) / 10,
        node: process.version,
        cores: availableParallelism(),
        date: new Date().toISOString().slice(0, 10),
        // a run of some files only is not the suite's figure
        whole: results.numTotalTestSuites === countTestFiles(join(__dirname, "..")),
        // seconds per file, from the start of its first test to the end of its last
        perFile: Object.fromEntries(
          results.testResults.map((r) => [relative(join(__dirname, "..", ".."), r.testFilePath), Math.round((r.perfStats.end - r.perfStats.start) / 100) / 10]),
        ),
      };
      writeFileSync(join(out, "test-run.json"), JSON.stringify(run, null, 2) + "\n");
    } catch {
      // figures are a convenience: a read-only checkout still gets its summary line
    }
  }
}
module.exports = SummaryReporter;
