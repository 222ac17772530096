// jest globalSetup: before any test file, the spawned CLIs' compiled JavaScript (dist/) must match
// the sources. `npm test` has just built it, so this only compares timestamps; a single-file run
// after an edit rebuilds here once, instead of in every worker at the same time.
module.exports = async () => {
  require("../../scripts/build").ensureBuilt();
};
