// The test order on a run without jest's cache (tests/support/sequencer.js): the times recorded in
// tests/support/test-times.json order the files, longest first, where jest has no timing; jest's
// own timings win where it has them; a file in neither starts first (jest's rule).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/cli";

type Test = { path: string; context: unknown; duration?: number };
const Sequencer = require("../support/sequencer.js") as {
  new (o: { contexts: unknown[]; globalConfig: unknown }): { sort(t: Test[]): Test[]; recorded: Record<string, number> };
  recordedSeconds(file?: string): Record<string, number>;
};

const cacheDir = mkdtempSync(join(tmpdir(), "gip-sequencer-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const context = { config: { rootDir: ROOT, cacheDirectory: cacheDir, name: "gip" }, hasteFS: { getSize: (p: string) => (p.endsWith("big.test.ts") ? 5000 : 10) } };
const testsOf = (paths: string[]): Test[] => paths.map((p) => ({ path: join(ROOT, p), context }));
const names = (tests: Test[]) => tests.map((t) => t.path.slice(ROOT.length + 1));

test("the recorded times name files that exist, and cover the lab's files (a renamed file would lose its place)", () => {
  const recorded = Sequencer.recordedSeconds();
  expect(Object.keys(recorded).filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  expect(Object.keys(recorded).filter((p) => p.startsWith("tests/lab/") && /lab-(faults|walk|neg|broken)/.test(p)).length).toBeGreaterThanOrEqual(5);
});

test("without jest's timings, the recorded times order the files, longest first; a file in neither starts first", () => {
  const sequencer = new Sequencer({ contexts: [], globalConfig: {} });
  sequencer.recorded = { "tests/a-short.test.ts": 2, "tests/b-long.test.ts": 60, "tests/c-mid.test.ts": 10 };
  const order = names(sequencer.sort(testsOf(["tests/a-short.test.ts", "tests/big.test.ts", "tests/c-mid.test.ts", "tests/b-long.test.ts"])));
  expect(order).toEqual(["tests/big.test.ts", "tests/b-long.test.ts", "tests/c-mid.test.ts", "tests/a-short.test.ts"]);
});

test("jest's own timing wins over the recorded one", () => {
  const sequencer = new Sequencer({ contexts: [], globalConfig: {} });
  sequencer.recorded = { "tests/a-short.test.ts": 2, "tests/b-long.test.ts": 60 };
  // jest's cache (what its own time() reads) says the "short" one took 90 s on this machine
  const cache = { [join(ROOT, "tests/a-short.test.ts")]: [1, 90_000] };
  (sequencer as unknown as { _getCache(): unknown })._getCache = () => cache;
  expect(names(sequencer.sort(testsOf(["tests/b-long.test.ts", "tests/a-short.test.ts"])))).toEqual(["tests/a-short.test.ts", "tests/b-long.test.ts"]);
});

test("a missing or unreadable times file gives no times, not a crash", () => {
  const bad = join(cacheDir, "bad.json");
  writeFileSync(bad, "{ not json");
  expect(Sequencer.recordedSeconds(bad)).toEqual({});
  expect(Sequencer.recordedSeconds(join(cacheDir, "none.json"))).toEqual({});
});
