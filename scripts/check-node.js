// The first thing every entry point runs (npm scripts, the CLIs, jest): on an older Node the project
// fails later with messages that do not say why (jest: "Must use import to load ES Module", the
// Kubernetes client's ESM). Plain ES5 on purpose: it must parse on whatever Node someone has.
// Loading this file checks process.versions.node against package.json `engines.node` (">=X[.Y[.Z]]")
// and exits 2 with what to do when it is older.
"use strict";
var fs = require("fs");
var path = require("path");

var ROOT = path.join(__dirname, "..");

/** "v24.9.1" or "24.9" -> [24, 9, 1] / [24, 9, 0]. */
function parseVersion(text) {
  var parts = String(text).replace(/^v/, "").split(".");
  return [0, 1, 2].map(function (i) {
    return parseInt(parts[i], 10) || 0;
  });
}

/** The minimum from engines.node; only ">=X[.Y[.Z]]" is read (tests/program/node-check.test.ts keeps it so). */
function requiredVersion(engines) {
  var m = /^>=\s*(\d+(\.\d+){0,2})$/.exec(String(engines || "").trim());
  return m ? m[1] : undefined;
}

function atLeast(have, want) {
  for (var i = 0; i < 3; i++) {
    if (have[i] !== want[i]) return have[i] > want[i];
  }
  return true;
}

/** The message for a Node older than `engines` (undefined when it is new enough). */
function problem(nodeVersion, engines, execPath) {
  var wanted = requiredVersion(engines);
  if (!wanted || atLeast(parseVersion(nodeVersion), parseVersion(wanted))) return undefined;
  var major = parseVersion(wanted)[0];
  return [
    "gke-ingress-path needs Node.js " + wanted + " or newer (package.json engines \"" + engines + "\"); this is Node " +
      String(nodeVersion).replace(/^v/, "") + (execPath ? " (" + execPath + ")" : "") + ".",
    "Get Node " + major + ", then run the same command again:",
    "  Linux x64, this shell only:  source .ci/node.sh    (Node " + major + " from the npm registry, cached in ~/.cache/gke-ingress-path)",
    "  with nvm:                    nvm install && nvm use    (reads .nvmrc)",
    "  or the installer from https://nodejs.org",
  ].join("\n");
}

function engines() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node;
  } catch (e) {
    return undefined;
  }
}

module.exports = { problem: problem, requiredVersion: requiredVersion, parseVersion: parseVersion, engines: engines };

var message = problem(process.versions.node, engines(), process.execPath);
if (message) {
  process.stderr.write(message + "\n");
  process.exit(2);
}
