// The offline trace contract, byte for byte, on every fixture: golden/contract/ holds what
// `npm run --silent trace -- FIXTURE --json` printed before the reader was rebuilt for speed
// (tests/fixtures/ mirrored, ".json" appended). The CLI writes the whole-dump answer piece by piece
// (ContractJsonWriter), so each fixture is checked both ways: the streamed text and
// JSON.stringify of the collected result must each equal the golden file exactly, warnings and
// their line numbers included.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ContractJsonWriter, prepareDump, streamPrepared, toContractJson, traceDump } from "../../verifier/iptables/trace";
import { FIXTURES } from "./helpers";

const GOLDEN = join(__dirname, "golden", "contract");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

/** The CLI's `--json` text for a whole dump, as verifier/cli/trace.ts writes it. */
function streamed(text: string): string {
  const prepared = prepareDump(text);
  let out = "";
  const writer = new ContractJsonWriter(prepared.format ?? "iptables-save", (chunk) => (out += chunk));
  const { warnings } = streamPrepared(prepared, { evidence: false }, (s) => writer.service(s));
  writer.end(warnings);
  return out;
}

const goldens = filesUnder(GOLDEN).map((g) => relative(GOLDEN, g));

describe("offline trace contract on every fixture", () => {
  test("every dump fixture has its golden output (and no golden is stale)", () => {
    expect(goldens.length).toBeGreaterThanOrEqual(60);
    for (const g of goldens) expect(statSync(join(FIXTURES, g.replace(/\.json$/, ""))).isFile()).toBe(true);
    // fixtures the CLI reads as dumps: anything with rules in it
    const dumps = filesUnder(FIXTURES)
      .map((f) => relative(FIXTURES, f))
      .filter((f) => prepareDump(readFileSync(join(FIXTURES, f), "utf8")).format !== undefined && !/\.(ts|sh)$/.test(f));
    expect(dumps.map((f) => f + ".json").sort()).toEqual([...goldens].sort());
  });

  test.each(goldens)("%s: streamed and collected JSON equal the golden text", (g) => {
    const text = readFileSync(join(FIXTURES, g.replace(/\.json$/, "")), "utf8");
    const golden = readFileSync(join(GOLDEN, g), "utf8");
    expect(streamed(text)).toBe(golden);
    expect(JSON.stringify(toContractJson(traceDump(text, { evidence: false })), null, 2) + "\n").toBe(golden);
  });

  test.each([
    ["no services", "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"],
    ["no warnings", readFileSync(join(FIXTURES, "writer-article.iptables-save.txt"), "utf8")],
    ["warnings with quotes and backslashes", '-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -m comment --comment "a\\"b" -j KUBE-SVC-AAAAAAAAAAAAAAAA\n-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BB\n'],
  ])("the writer prints what JSON.stringify prints: %s", (_, text) => {
    const expected = JSON.stringify(toContractJson(traceDump(text, { evidence: false })), null, 2) + "\n";
    expect(streamed(text)).toBe(expected);
  });

  test("the writer hands on chunks of about 64 KiB, not one string per service nor one for all", () => {
    const text = readFileSync(join(FIXTURES, "writer-article.iptables-save.txt"), "utf8");
    const prepared = prepareDump(text);
    const chunks: string[] = [];
    const writer = new ContractJsonWriter(prepared.format!, (c) => chunks.push(c));
    const { warnings } = streamPrepared(prepared, { evidence: false }, (s) => {
      for (let i = 0; i < 400; i++) writer.service(s);
    });
    writer.end(warnings);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThanOrEqual(65536);
    expect(JSON.parse(chunks.join("")).services.length).toBeGreaterThan(400);
  });
});
