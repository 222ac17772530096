// Tests that run the project's entry points on a Node older than `engines` need such a Node on the
// machine (the build machines ship Node 20). One place finds it; without one, the tests skip loudly.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ROOT } from "./cli";

const check = require("../../scripts/check-node.js") as { problem(version: string, engines: string | undefined): string | undefined };
const engines = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;

/** A Node on this machine older than engines allows, if there is one. */
export function oldNode(): string | undefined {
  const candidates = ["/usr/bin/node", "/usr/local/bin/node", ...(process.env.PATH ?? "").split(delimiter).map((d) => join(d, "node"))];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8", timeout: 10_000 }).trim();
      if (check.problem(version, engines)) return candidate;
    } catch {
      // not runnable: try the next
    }
  }
  return undefined;
}

/** `describe` given the old Node's path, when this machine has one; otherwise skipped with a warning. */
export function describeWithOldNode(title: string, body: (node: string) => void): void {
  const node = oldNode();
  if (node) {
    describe(title, () => body(node));
    return;
  }
  console.warn(`SKIPPED "${title}": no Node older than engines ${engines} on this machine (the build machines' Node 20 is where this runs).`);
  describe.skip(title, () => test("needs a Node older than engines", () => undefined));
}
