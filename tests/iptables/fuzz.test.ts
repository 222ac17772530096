// Mutated dumps (seeded, reproducible) must never make the tracer throw, and what it returns
// must keep the contract's shape.
import { traceDump } from "../../verifier/iptables/trace";
import { prng, readFixture } from "./helpers";

const SEEDS = 40;
const MUTATIONS_PER_SEED = 12;

function mutate(text: string, rand: () => number): string {
  let lines = text.split("\n");
  const pick = () => Math.floor(rand() * lines.length);
  for (let m = 0; m < MUTATIONS_PER_SEED; m++) {
    const i = pick();
    const line = lines[i] ?? "";
    switch (Math.floor(rand() * 7)) {
      case 0: lines.splice(i, 1); break; // delete a line
      case 1: lines.splice(i, 0, line); break; // duplicate
      case 2: lines[i] = line.slice(0, Math.floor(rand() * line.length)); break; // truncate
      case 3: { // flip a character
        const k = Math.floor(rand() * Math.max(1, line.length));
        lines[i] = line.slice(0, k) + String.fromCharCode(32 + Math.floor(rand() * 95)) + line.slice(k + 1);
        break;
      }
      case 4: { // swap two lines
        const j = pick();
        [lines[i], lines[j]] = [lines[j], lines[i]];
        break;
      }
      case 5: lines[i] = line.replace(/[{}"]/, ""); break; // break quoting/braces
      case 6: lines = lines.slice(0, Math.max(1, i)); break; // truncate the dump
    }
  }
  return lines.join("\n");
}

describe.each([
  "writer-article.iptables-save-c-nat.txt",
  "kube-proxy-1.20-era.iptables-nvL.txt",
  "kube-proxy-iptables-overall.iptables-L-line-numbers.txt",
  "kube-proxy-nftables-overall.nft-table.nft",
  "sources/kube-proxy-nftables-overall.nft",
])("fuzzing %s", (fixture) => {
  const original = readFixture(fixture);
  test(`${SEEDS} mutated dumps never throw and keep the shape`, () => {
    let withWarnings = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const text = mutate(original, prng(seed));
      let result: ReturnType<typeof traceDump> | undefined;
      expect(() => (result = traceDump(text))).not.toThrow();
      const r = result!;
      expect(["iptables-save", "iptables-list", "nft"]).toContain(r.format);
      for (const w of r.warnings) expect(w).toMatch(/^line \d+: /);
      if (r.warnings.length > 0) withWarnings++;
      for (const s of r.services) {
        for (const list of [s.endpoints, s.nodePortEndpoints ?? []]) {
          const sum = list.reduce((n, e) => n + e.share, 0);
          expect(sum).toBeLessThanOrEqual(1 + 1e-9);
          for (const e of list) {
            expect(e.share).toBeGreaterThan(0);
            expect(Number.isInteger(e.port)).toBe(true);
          }
        }
      }
    }
    // the mutations do reach the parsers: most dumps must produce warnings
    expect(withWarnings).toBeGreaterThan(SEEDS / 2);
  });
});
