// Start-up of each CLI as a whole process (`--help`), compiled (dist/, as the npm scripts run them)
// against ts-node (how they ran before) and against `node -e 0`, side by side: wall time, min and
// median of N runs (on a busy machine the min says more about the program than the median).
//   node bench/startup.js [runs=15] [--compiled-only]     (after npm ci / npm run build)
"use strict";
require("../scripts/check-node");
const { spawnSync } = require("node:child_process");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");
const compiledOnly = process.argv.includes("--compiled-only");
const runs = Number(process.argv.slice(2).find((a) => !a.startsWith("--")) ?? 15);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`usage: node bench/startup.js [RUNS] [--compiled-only]   (RUNS: a whole number >= 1, default 15; got "${process.argv[2]}")`);
  process.exit(2);
}
require("../scripts/build").ensureBuilt();

const CLIS = ["verifier/cli/trace", "verifier/cli/verify", "verifier/cli/sweep", "lab/cli", "scripts/preflight"];
const tsNode = require.resolve("ts-node/dist/bin.js", { paths: [ROOT] });
const cases = [["node -e 0", ["-e", "0"]]];
for (const cli of CLIS) {
  cases.push([`${cli} --help (dist)`, ["-r", "./scripts/launch.js", `dist/${cli}.js`, "--help"]]);
  if (!compiledOnly) cases.push([`${cli} --help (ts-node)`, [tsNode, `${cli}.ts`, "--help"]]);
}

function measure(args) {
  const wall = [];
  for (let i = 0; i < runs + 1; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    if (i > 0) wall.push(ms); // the first run warms the file cache (and Node's compile cache)
  }
  wall.sort((a, b) => a - b);
  return { min: wall[0], median: wall[Math.floor(wall.length / 2)] };
}

const base = measure(["-e", "0"]);
console.log(`node ${process.version}, ${runs} runs each (after one warm-up run); ratio = median / median of node -e 0`);
console.log(`${"command".padEnd(36)} ${"min ms".padStart(8)} ${"median ms".padStart(10)} ${"ratio".padStart(6)}`);
for (const [name, args] of cases) {
  const m = name === "node -e 0" ? base : measure(args);
  console.log(`${name.padEnd(36)} ${m.min.toFixed(0).padStart(8)} ${m.median.toFixed(0).padStart(10)} ${(m.median / base.median).toFixed(1).padStart(6)}`);
}
