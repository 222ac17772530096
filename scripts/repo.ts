// Where the repository is, and how to run one of its TypeScript entry points as a child process,
// the same from the sources (jest, ts-node) and from the compiled dist/ (the npm scripts).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** The directory holding this project's package.json, found upwards from this file (sources or dist/). */
export const REPO_ROOT: string = findRoot(__dirname);

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "gke-ingress-path") return dir;
    if (dirname(dir) === dir) throw new Error(`no gke-ingress-path package.json above ${start}`);
  }
}

/**
 * The argv (node first) that runs the repository's TypeScript entry `entry` (repo-relative, e.g.
 * "lab/client-requests.ts") as plain JavaScript: its build in dist/ (scripts/build.js makes it; the
 * npm scripts and the jest setup keep it current). Throws when dist/ has no such file, naming the
 * command that builds it.
 */
export function compiledEntry(entry: string): string[] {
  const js = join(REPO_ROOT, "dist", entry.replace(/\.ts$/, ".js").replace(/\.mts$/, ".mjs"));
  if (!existsSync(js)) throw new Error(`${relative(REPO_ROOT, js)} is missing: run npm run build (it compiles the sources into dist/)`);
  return [process.execPath, js];
}
