// How tests start the project's CLIs: exactly as the npm scripts do (`node -r scripts/launch.js
// dist/<entry>.js`), without npm's own start-up in between. package.json's scripts are checked to
// say the same in tests/program/startup.test.ts.
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");

/** node's argv (after the node binary) for the CLI whose source is `entry`, e.g. "verifier/cli/verify.ts". */
export function cliArgs(entry: string): string[] {
  return ["-r", join(ROOT, "scripts", "launch.js"), join(ROOT, "dist", entry.replace(/\.ts$/, ".js"))];
}

/**
 * A CLI's error lines as one line per message: the CLIs wrap messages to 100 columns, continuing
 * them two spaces in (verifier/cli/flags.ts errorText). Only for output made of such lines.
 */
export function unwrapped(text: string): string {
  return text.replace(/\n {2}(?=\S)/g, " ");
}
