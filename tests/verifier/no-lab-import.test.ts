// Data flows one way: the lab feeds the verifier, never the reverse. A verifier file importing
// from lab/ would make the verifier depend on the lab's namespaces and processes.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : /\.m?ts$/.test(name) ? [path] : [];
  });
}

test("no file under verifier/ imports from lab/", () => {
  const offenders = tsFiles(join(ROOT, "verifier")).filter((file) =>
    /(?:from|import\()\s*["'](?:\.\.\/)+lab\//.test(readFileSync(file, "utf8")),
  );
  expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  // the check itself can see an import when there is one
  expect(/(?:from|import\()\s*["'](?:\.\.\/)+lab\//.test('import { x } from "../../lab/source";')).toBe(true);
});
