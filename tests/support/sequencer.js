// jest's test order. jest starts the files it remembers as slowest first; on a first run (a fresh
// clone, CI) it has no timings and starts the biggest files first, so the lab fault files (a few
// lines each, about a minute each) started last and the run waited for them at the end. Here the
// files known to take longest, most of that waiting on namespaces, sshd, health checks or a
// browser, start first when jest has no timing for them; everything else keeps jest's order.
"use strict";
const Sequencer = require("@jest/test-sequencer").default;
const { relative } = require("node:path");

/** Slowest first (seconds on the shared 2-core machine, loaded: lab-faults-* 61-63, mermaid-render 62, program/index 51, lab-broken 48, ...). */
const KNOWN_SLOW = [
  "tests/lab/lab-faults-pod.test.ts",
  "tests/lab/lab-faults-node.test.ts",
  "tests/verifier/mermaid-render.test.ts",
  "tests/program/index.test.ts",
  "tests/verifier/cli.test.ts",
  "tests/lab/lab-broken.test.ts",
  "tests/snapshot/cli.test.ts",
  "tests/e2e/verify-gke.test.ts",
  "tests/program/stack.test.ts",
  "tests/program/components.test.ts",
  "tests/e2e/diagnosis-cloud.test.ts",
  "tests/snapshot/nodes-roundtrip.test.ts",
  "tests/lab/lab-e2e.test.ts",
  "tests/ssh/collect.test.ts",
];

class KnownSlowFirst extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const rank = (test) => (this.time(test) == null ? KNOWN_SLOW.indexOf(relative(test.context.config.rootDir, test.path)) : -1);
    const first = ordered.filter((t) => rank(t) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...first, ...ordered.filter((t) => rank(t) < 0)];
  }
}

module.exports = KnownSlowFirst;
module.exports.KNOWN_SLOW = KNOWN_SLOW;
