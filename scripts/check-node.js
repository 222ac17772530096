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

/**
 * One line cut at spaces to at most `width` columns (100: docs/cli.md), each further line starting
 * two spaces further in than the first: the rule verifier/cli/flags.ts applies to the other CLIs,
 * written again here because this file must run before anything is compiled. A word longer than a
 * line (a path) stays whole.
 */
function wrapLine(line, width) {
  var indent = /^ */.exec(line)[0] + "  ";
  var out = [];
  var current = "";
  line.split(" ").forEach(function (word, i) {
    if (i > 0 && current.trim() !== "" && (current + " " + word).length > width) {
      out.push(current.replace(/\s+$/, ""));
      current = indent + word;
    } else {
      current = i === 0 ? word : current + " " + word;
    }
  });
  out.push(current);
  return out.join("\n");
}

/** The message for a Node older than `engines` (undefined when it is new enough), at most 100 columns wide. */
function problem(nodeVersion, engines, execPath) {
  var wanted = requiredVersion(engines);
  if (!wanted || atLeast(parseVersion(nodeVersion), parseVersion(wanted))) return undefined;
  var provided = nodeShVersion() || "the current LTS";
  return [
    "gke-ingress-path needs Node.js " + wanted + " or newer (package.json engines \"" + engines + "\");",
    "this is Node " + String(nodeVersion).replace(/^v/, "") + (execPath ? " (" + execPath + ")" : "") + ".",
    "Get a newer Node, then run the same command again (docs/node.md):",
    "  Linux x64, this shell only:  source .ci/node.sh    (Node " + provided + " from the npm registry, cached in ~/.cache/gke-ingress-path)",
    "  with nvm:                    nvm install && nvm use    (reads .nvmrc)",
    "  or the installer from https://nodejs.org (any " + wanted + " or newer)",
  ]
    .map(function (line) {
      return wrapLine(line, 100);
    })
    .join("\n");
}

function engines() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node;
  } catch (e) {
    return undefined;
  }
}

/** NODE_WANTED_VERSION in .ci/node.sh: the Node it puts on PATH when sourced with no argument. */
function nodeShVersion() {
  try {
    var m = /^NODE_WANTED_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(ROOT, ".ci", "node.sh"), "utf8"));
    return m ? m[1] : undefined;
  } catch (e) {
    return undefined;
  }
}

/**
 * The Node that `.ci/node.sh` provisions (its NODE_WANTED_VERSION, cached under
 * ${XDG_CACHE_HOME:-~/.cache}/gke-ingress-path/node-<version>/bin/node) when it is on this machine.
 */
function provisionedNode(env) {
  try {
    var version = nodeShVersion();
    if (!version) return undefined;
    var cache = env.XDG_CACHE_HOME || path.join(env.HOME || require("os").homedir(), ".cache");
    var node = path.join(cache, "gke-ingress-path", "node-" + version, "bin", "node");
    return fs.existsSync(node) ? node : undefined;
  } catch (e) {
    return undefined;
  }
}

/** True when this process is a CLI started by its npm script: `node -r ./scripts/launch.js dist/<entry>.js`. */
function launchedCli() {
  return process.execArgv.some(function (a) {
    return /(^|[\/])scripts[\/]launch\.js$/.test(a);
  });
}

module.exports = { problem: problem, requiredVersion: requiredVersion, parseVersion: parseVersion, engines: engines, provisionedNode: provisionedNode };

var message = problem(process.versions.node, engines(), process.execPath);
if (message) {
  // Scripts outside the project (scorers, hooks) run `npm run --silent trace -- FILE --json` with
  // whatever Node is on PATH. Where .ci/node.sh already fetched the project's Node, a CLI runs itself
  // again on that one (same arguments, stdin, stdout and exit code) instead of refusing; it says so
  // on stderr, so stdout stays the CLI's own.
  var provisioned = launchedCli() ? provisionedNode(process.env) : undefined;
  if (provisioned) {
    process.stderr.write("(Node " + process.versions.node + " is older than engines \"" + engines() + "\": running on " + provisioned + ")\n");
    var run = require("child_process").spawnSync(provisioned, process.execArgv.concat(process.argv.slice(1)), { stdio: "inherit" });
    process.exit(run.status === null ? 2 : run.status);
  }
  process.stderr.write(message + "\n");
  process.exit(2);
}
