// Writes the measured figures into docs/testing.md, between its "<!-- figures:NAME -->" and
// "<!-- /figures -->" lines, so that no documented figure is typed by hand:
//   test-run   the last whole `npm test` run (tests/support/summary-reporter.js saves it in
//              bench/out/test-run.json)
//   startup    each CLI's `--help` as a whole process against `node -e 0` (bench/startup.js, run here)
// and, from the same whole run, each test file's seconds into tests/support/test-times.json, the
// order jest starts the files in when it has no timings of its own (tests/support/sequencer.js).
// Usage: npm run figures [-- --no-startup]
"use strict";
require("./check-node");
const { existsSync, readFileSync, writeFileSync } = require("node:fs");
const { spawnSync } = require("node:child_process");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");
const DOC = join(ROOT, "docs", "testing.md");

/** Replaces the block named `name` in `text`; throws when the markers are missing. */
function replaceBlock(text, name, lines) {
  const re = new RegExp(`(<!-- figures:${name} -->\\n)[\\s\\S]*?(<!-- /figures -->)`);
  if (!re.test(text)) throw new Error(`docs/testing.md has no "<!-- figures:${name} -->" ... "<!-- /figures -->" block`);
  return text.replace(re, (_m, open, close) => `${open}${lines.join("\n")}\n${close}`);
}

function testRunLines() {
  const file = join(ROOT, "bench", "out", "test-run.json");
  if (!existsSync(file)) return ["No whole `npm test` run recorded on this machine yet: run `npm test`, then `npm run figures`."];
  const run = JSON.parse(readFileSync(file, "utf8"));
  if (!run.whole) return ["The last recorded run was not the whole suite: run `npm test`, then `npm run figures`."];
  return [
    `The last whole \`npm test\` jest run (${run.date}, Node ${run.node}, ${run.cores} cores): ` +
      `${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped in ${run.files} files, ${run.seconds} s.`,
  ];
}

/** tests/support/test-times.json from the last whole run; false when there is none to take them from. */
function writeTestTimes() {
  const file = join(ROOT, "bench", "out", "test-run.json");
  if (!existsSync(file)) return false;
  const run = JSON.parse(readFileSync(file, "utf8"));
  if (!run.whole || !run.perFile) return false;
  const seconds = Object.fromEntries(Object.entries(run.perFile).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  const times = {
    what: "each test file's wall seconds in the last whole npm test run; tests/support/sequencer.js starts the longest first when jest has no timings",
    run: { date: run.date, node: run.node, cores: run.cores, seconds: run.seconds },
    seconds,
  };
  writeFileSync(join(ROOT, "tests", "support", "test-times.json"), JSON.stringify(times, null, 2) + "\n");
  return true;
}

function startupLines() {
  const r = spawnSync(process.execPath, [join(ROOT, "bench", "startup.js"), "7", "--compiled-only"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench/startup.js failed: ${r.stderr.trim()}`);
  return ["```", ...r.stdout.trimEnd().split("\n"), "```"];
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== "--no-startup");
if (unknown.length > 0) {
  console.error(`figures: error: unknown argument ${unknown.join(", ")} (usage: npm run figures [-- --no-startup])`);
  process.exit(2);
}
try {
  let text = readFileSync(DOC, "utf8");
  text = replaceBlock(text, "test-run", testRunLines());
  if (!args.includes("--no-startup")) text = replaceBlock(text, "startup", startupLines());
  writeFileSync(DOC, text);
  console.log("figures: wrote docs/testing.md");
  if (writeTestTimes()) console.log("figures: wrote tests/support/test-times.json");
} catch (error) {
  console.error(`figures: error: ${error.message}`);
  process.exit(2);
}
