// A reader that stops early (`npm run --silent verify ... | head`) closes the CLI's stdout or stderr;
// the next write then fails with EPIPE, which Node raises as an unhandled 'error' event and a stack
// trace. A shell tool in that place is ended by SIGPIPE, silently (status 141 under pipefail): the
// CLIs end the same way. Node ignores SIGPIPE from the start, so the default action is put back
// first; a CLI that must clean up before it ends (the snapshot's half-written folder) listens for
// SIGPIPE itself and exits from its listener. Plain ES5, loaded by scripts/launch.js.
"use strict";

function endAsShellTool() {
  if (process.listenerCount("SIGPIPE") === 0) {
    // Adding and removing the last listener resets the signal to its default action (terminate).
    var none = function () {};
    process.on("SIGPIPE", none);
    process.off("SIGPIPE", none);
  }
  process.kill(process.pid, "SIGPIPE");
  // Should the signal not end the process (a listener that does not exit), end it with the status
  // a shell gives a process killed by SIGPIPE (128 + 13).
  setTimeout(function () {
    process.exit(141);
  }, 1000).unref();
}

var ended = false;
function onStreamError(error) {
  if (!error || error.code !== "EPIPE") throw error;
  if (ended) return;
  ended = true;
  endAsShellTool();
}

/** Makes an early-closed stdout or stderr end the process as SIGPIPE ends a shell tool. */
function exitQuietlyOnClosedPipe() {
  process.stdout.on("error", onStreamError);
  process.stderr.on("error", onStreamError);
}

module.exports = { exitQuietlyOnClosedPipe: exitQuietlyOnClosedPipe };
