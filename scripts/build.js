// Compiles the TypeScript sources into dist/ (gitignored) with tsc, so the CLIs start as plain
// JavaScript instead of through ts-node. Runs at install (`prepare`, so `npm ci` leaves working
// CLIs), in `npm test` (the type-check and the build in one tsc run) and, through
// scripts/launch.js, before a CLI whose sources are newer than the last build.
//   node scripts/build.js     build; exit status is tsc's (non-zero on a type error)
"use strict";
require("./check-node");
var fs = require("fs");
var path = require("path");
var childProcess = require("child_process");

var ROOT = path.join(__dirname, "..");
var DIST = path.join(ROOT, "dist");
/** Written after each build; a source newer than it means dist/ may not match the sources. */
var STAMP = path.join(DIST, ".build-stamp");
/** What the compiled CLIs are made of (tests/ and bench/ are compiled too, but run from source). */
var WATCHED = ["components", "verifier", "lab", "scripts", "index.ts", "tsconfig.json"];

function newestSource() {
  var newest = { file: undefined, mtimeMs: 0 };
  function visit(rel) {
    var full = path.join(ROOT, rel);
    var st;
    try {
      st = fs.statSync(full);
    } catch (e) {
      return;
    }
    if (st.isDirectory()) {
      fs.readdirSync(full).forEach(function (name) {
        visit(path.join(rel, name));
      });
    } else if (/\.(ts|mts|json)$/.test(rel) && st.mtimeMs > newest.mtimeMs) {
      newest = { file: rel, mtimeMs: st.mtimeMs };
    }
  }
  WATCHED.forEach(visit);
  return newest;
}

/**
 * Why dist/ must be (re)built before running `entry` (a path under dist/), or undefined when it
 * is current: no build yet, the entry is missing, or a source file changed after the last build.
 */
function staleReason(entry) {
  var stamp;
  try {
    stamp = fs.statSync(STAMP);
  } catch (e) {
    return "dist/ has not been built yet";
  }
  if (entry && !fs.existsSync(entry)) return path.relative(ROOT, entry) + " is missing";
  var newest = newestSource();
  return newest.mtimeMs > stamp.mtimeMs ? newest.file + " changed after the last build" : undefined;
}

/**
 * Runs tsc on the project (type-check + emit into dist/, incremental). tsc's own output goes to
 * `out` (a file descriptor: stderr for a CLI, whose stdout may be a JSON contract). Returns tsc's
 * exit status; the emitted JavaScript is there even after type errors.
 */
function build(out) {
  var fd = out === undefined ? 1 : out;
  var tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
  if (!fs.existsSync(STAMP)) {
    // An incremental build info without the outputs it describes would emit nothing.
    try {
      fs.rmSync(path.join(DIST, "tsconfig.tsbuildinfo"), { force: true });
    } catch (e) {
      /* nothing to remove */
    }
  }
  var r = childProcess.spawnSync(process.execPath, [tsc, "-p", ROOT], { cwd: ROOT, stdio: ["ignore", fd, 2] });
  if (r.error) throw r.error;
  fs.mkdirSync(DIST, { recursive: true });
  fs.writeFileSync(STAMP, "built " + new Date().toISOString() + ", tsc exit " + r.status + "\n");
  return r.status === null ? 1 : r.status;
}

/** Builds first when dist/ is stale for `entry`, telling why on stderr. */
function ensureBuilt(entry) {
  var why = staleReason(entry);
  if (!why) return;
  process.stderr.write(why + ": compiling the TypeScript sources into dist/ first (tsc, about 20 s; npm run build does it too)\n");
  var status = build(2);
  if (status !== 0) process.stderr.write("tsc reported type errors (above); running the compiled JavaScript anyway\n");
}

module.exports = { build: build, ensureBuilt: ensureBuilt, staleReason: staleReason, ROOT: ROOT, DIST: DIST, STAMP: STAMP };

if (require.main === module) process.exitCode = build(1);
