// The verifier's module layers: the entry points in verifier/cli/ import one another in one
// direction only (no circle, type imports included), and verifier/iptables/ (the rule readers)
// imports nothing from verifier/checks/ (the claims built on them).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(__dirname, "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : /\.m?ts$/.test(name) ? [path] : [];
  });
}

/** Relative module specifiers a source names: import/export ... from, import(), require(). */
export function importsOf(text: string): string[] {
  const found = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return [...new Set(found)];
}

/** file (relative to ROOT, without extension) -> the files it imports, resolved the same way. */
function graph(dir: string): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of tsFiles(join(ROOT, dir))) {
    const from = relative(ROOT, file).replace(/\.m?ts$/, "");
    edges.set(from, importsOf(readFileSync(file, "utf8")).map((spec) => relative(ROOT, resolve(dirname(file), spec)).replace(/\.m?[jt]s$/, "")));
  }
  return edges;
}

/** Every import circle among the given edges, each as the files along it. */
function circles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const visit = (node: string, path: string[]) => {
    for (const next of edges.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next]);
      else if (edges.has(next)) visit(next, [...path, next]);
    }
  };
  for (const start of edges.keys()) visit(start, [start]);
  return found;
}

test("the entry points in verifier/cli/ import one another without a circle", () => {
  const cli = new Map([...graph("verifier").entries()].filter(([f]) => f.startsWith("verifier/cli/")).map(([f, to]) => [f, to.filter((t) => t.startsWith("verifier/cli/"))]));
  expect(cli.size).toBeGreaterThanOrEqual(6);
  expect(circles(cli)).toEqual([]);
  // the check finds a circle when there is one
  expect(circles(new Map([["a", ["b"]], ["b", ["a"]]]))).not.toEqual([]);
});

test("verifier/iptables/ imports nothing from verifier/checks/", () => {
  const offenders = [...graph("verifier/iptables").entries()].flatMap(([f, to]) => to.filter((t) => t.startsWith("verifier/checks/")).map((t) => `${f} -> ${t}`));
  expect(offenders).toEqual([]);
  expect(importsOf('import type { X } from "../checks/ip";\nconst y = require("./z") as typeof import("./z");')).toEqual(["../checks/ip", "./z"]);
});
