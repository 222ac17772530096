// jest's test order. jest starts the files it remembers as slowest first; on a run without its
// cache (a fresh clone, CI) it has no timings and starts the biggest files first, so the long
// files (a lab, a browser: a few lines each, up to a minute each) started last and the run waited
// for them at the end. Here a file jest has no timing for takes its time from the last whole run
// recorded in tests/support/test-times.json (written by `npm run figures`), so the order is the
// same as on a warm machine. A file in neither (a new one) keeps jest's rule: it starts first.
"use strict";
const Sequencer = require("@jest/test-sequencer").default;
const { existsSync, readFileSync } = require("node:fs");
const { join, relative } = require("node:path");

const TIMES_FILE = join(__dirname, "test-times.json");

/** { "tests/...test.ts": seconds } of the last recorded whole run; {} when the file is missing or unreadable. */
function recordedSeconds(file = TIMES_FILE) {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")).seconds ?? {};
  } catch {
    return {};
  }
}

class RecordedTimesFirst extends Sequencer {
  constructor(options) {
    super(options);
    this.recorded = recordedSeconds();
  }

  /** ms: jest's own timing, else the recorded one, else undefined (jest's rule for untimed files). */
  time(test) {
    const own = super.time(test);
    if (own != null) return own;
    const seconds = this.recorded[relative(test.context.config.rootDir, test.path)];
    return seconds == null ? undefined : seconds * 1000;
  }
}

module.exports = RecordedTimesFirst;
module.exports.TIMES_FILE = TIMES_FILE;
module.exports.recordedSeconds = recordedSeconds;
