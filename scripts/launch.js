// Preloaded by every CLI's npm script: `node -r ./scripts/launch.js dist/<entry>.js`. A preload runs
// before Node even looks for the main file, so this checks the Node version first, then makes sure
// dist/ is a build of the current sources (building it when a source is newer), and the CLI itself
// runs as compiled JavaScript, unchanged and still its process's main module.
"use strict";
require("./check-node");
require("./closed-pipe").exitQuietlyOnClosedPipe();
// V8's code cache for every module the CLI loads (its own and node_modules'), kept by Node in the
// temporary directory: the next start skips compiling them (Node >= 22.1).
var Module = require("module");
if (typeof Module.enableCompileCache === "function") Module.enableCompileCache();
var entry = process.argv[1];
require("./build").ensureBuilt(entry && /\.m?js$/.test(entry) ? entry : undefined);
