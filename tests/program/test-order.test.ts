// The test order on a first run (tests/support/sequencer.js): the known-slow files exist and start
// first when jest has no timings; with timings, jest's own order is kept.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/cli";

const Sequencer = require("../support/sequencer.js") as { new (o: { contexts: unknown[]; globalConfig: unknown }): { sort(t: unknown[]): { path: string }[] }; KNOWN_SLOW: string[] };

const cacheDir = mkdtempSync(join(tmpdir(), "gip-sequencer-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

function testsOf(paths: string[], durations: Record<string, number> = {}) {
  const context = { config: { rootDir: ROOT, cacheDirectory: cacheDir, name: "gip" }, hasteFS: { getSize: (p: string) => (p.endsWith("big.test.ts") ? 5000 : p.endsWith("small.test.ts") ? 100 : 10) } };
  return paths.map((p) => ({ path: join(ROOT, p), context, duration: durations[p] }));
}

test("every known-slow file exists (a renamed one would silently lose its place)", () => {
  expect(Sequencer.KNOWN_SLOW.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
});

test("without timings the known-slow files start first, in the list's order, though jest alone would start them last (smallest)", () => {
  const [slowA, slowB] = Sequencer.KNOWN_SLOW;
  const sequencer = new Sequencer({ contexts: [], globalConfig: {} });
  const order = sequencer.sort(testsOf(["tests/big.test.ts", slowB!, "tests/small.test.ts", slowA!])).map((t) => t.path.slice(ROOT.length + 1));
  expect(order).toEqual([slowA, slowB, "tests/big.test.ts", "tests/small.test.ts"]);
});
