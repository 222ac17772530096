// examples/snapshot/: the repository's own example folders. recorded-zonal must be what the snapshot
// recorder writes today from the REST stand-ins' healthy world (recorded again here and compared
// file by file), and both folders must be judged offline with no warning about any file.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifySnapshot } from "../../verifier/snapshot/run";
import { RECORDED_INGRESS, recordExample } from "../support/record-example";

jest.setTimeout(60_000);

const EXAMPLES = join(__dirname, "../../examples/snapshot");
const RECORDED = join(EXAMPLES, "recorded-zonal");

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();

/** snapshot.json without what changes on every recording: when, and the stand-ins' local ports. */
function stableMeta(dir: string): Record<string, unknown> {
  const { createdAt, from, ...rest } = JSON.parse(readFileSync(join(dir, "snapshot.json"), "utf8")) as Record<string, unknown>;
  expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(Object.keys(from as object).sort()).toEqual(["compute", "kubernetes"]);
  return rest;
}

let fresh: string;
beforeAll(() => (fresh = mkdtempSync(join(tmpdir(), "gip-example-"))));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

test("recorded-zonal is what the recorder writes today (re-record: npx ts-node tests/support/record-example.ts DIR)", async () => {
  const dir = join(fresh, "recorded");
  expect(await recordExample(dir)).toBeGreaterThan(10);
  expect(files(RECORDED)).toEqual(files(dir));
  for (const f of files(dir).filter((x) => x !== "snapshot.json")) {
    expect({ f, same: readFileSync(join(RECORDED, f), "utf8") === readFileSync(join(dir, f), "utf8") }).toEqual({ f, same: true });
  }
  expect(stableMeta(RECORDED)).toEqual(stableMeta(dir));
});

test.each([
  ["recorded-zonal", RECORDED_INGRESS],
  ["healthy-zonal", { namespace: "study", name: "hello" }],
])("%s: the load balancer claims pass offline, the node claims and C12 cannot tell, no file warning", async (name, ingress) => {
  const outcome = await verifySnapshot(join(EXAMPLES, name), { ingress, requests: 0, timeoutMs: 5000 });
  const v = Object.fromEntries(outcome.results.map((r) => [r.id, r.verdict]));
  expect([v.C1, v.C8, v.C9, v.C10, v.C11]).toEqual(["pass", "pass", "pass", "pass", "pass"]);
  expect(["C2", "C3", "C4", "C5", "C6", "C7", "C12"].map((id) => v[id])).toEqual(Array(7).fill("cannot-tell"));
  expect(outcome.model.problems.filter((p) => p.source === "input")).toEqual([]);
  expect(outcome.exitCode).toBe(2);
});
