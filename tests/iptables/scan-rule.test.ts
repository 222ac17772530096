// The rule scanner's fast paths (kube-proxy's shapes by one pattern, other plain shapes by a
// scanner over the text) must mean what the general tokenizer + parseRuleTokens mean: the same
// conditions in the same order, the same comment and target, and no answer where the general
// parser finds an error. Checked on every -A line of the fixtures and on mutations of them.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Interner, parseRuleTokens, tokenize } from "../../verifier/iptables/iptables-rule";
import { scanRule } from "../../verifier/iptables/iptables-scan";
import { FIXTURES } from "./helpers";

const ruleLines = [
  ...new Set(
    readdirSync(FIXTURES)
      .filter((f) => /save|-S\.txt|\.rules$/.test(f))
      .flatMap((f) => readFileSync(join(FIXTURES, f), "utf8").split("\n"))
      .filter((l) => l.startsWith("-A ")),
  ),
];

/** Deterministic variations: values a fast path must read as the general parser does, or leave to it. */
function mutations(line: string, seed: number): string[] {
  const values = ["-0", "!", '"', "1.2.3.4/5", "10.1.2.3:080", "01.2.3.4", "1.2.3.4/33", "0.0.0.0/0", "256.1.1.1", "0x10", "1.5", "0.50", "65536", "070", "::1", "[::1]:80", "a\\b", ""];
  const words = line.split(" ");
  const out: string[] = [];
  for (let k = 0; k < 6; k++) {
    const i = 2 + ((seed * 7 + k * 13) % Math.max(1, words.length - 2));
    const w = [...words];
    w[i] = values[(seed + k * 5) % values.length];
    out.push(w.join(" "));
    out.push(words.slice(0, i).join(" ")); // cut after a word
  }
  out.push(line.replace("-j ", "! -j "), line.replace(" -m ", "  -m "), line + " ", line.replace(/"/g, ""));
  return out;
}

function general(line: string) {
  const tokens = tokenize(line);
  if (typeof tokens === "string" || tokens.length < 2) return undefined;
  const parsed = parseRuleTokens(tokens, 2, new Interner());
  return parsed.error === undefined ? parsed : undefined;
}

describe("rule scanner", () => {
  test("the fixtures hold enough kube-proxy rule lines to mean something", () => {
    expect(ruleLines.length).toBeGreaterThan(150);
  });

  test("every fixture rule line, and every mutation of it, reads the same through the fast paths and the general parser", () => {
    let fast = 0;
    let checked = 0;
    ruleLines.forEach((line, n) => {
      for (const text of [line, ...mutations(line, n)]) {
        const nameEnd = text.indexOf(" ", 3);
        if (nameEnd < 0) continue;
        const scanned = scanRule(text, nameEnd, text.length, new Interner());
        checked++;
        if (scanned === undefined) continue; // left to the general parser: always allowed
        fast++;
        const want = general(text);
        expect({ text, parsed: want && { conds: want.conds, target: want.target, comment: want.comment } }).toEqual({
          text,
          parsed: { conds: scanned.conds, target: scanned.target, comment: scanned.comment },
        });
      }
    });
    // the fast paths must really be taken (most fixture lines are kube-proxy's own shapes)
    expect(fast).toBeGreaterThan(checked / 3);
  });

  test("kube-proxy's shapes, as iptables-save prints them, are read by the fast path", () => {
    const lines = [
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns0/svc0:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-K7ZVFMM3TUXRXRZR',
      "-A KUBE-SVC-K7ZVFMM3TUXRXRZR ! -s 10.64.0.0/10 -d 10.96.0.1/32 -p tcp -m comment --comment \"ns0/svc0:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ",
      "-A KUBE-SVC-K7ZVFMM3TUXRXRZR -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-AAAAAAAAAAAAAAAA",
      "-A KUBE-SEP-AAAAAAAAAAAAAAAA -s 10.64.0.1/32 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m tcp -j DNAT --to-destination 10.64.0.1:8080",
      '-A KUBE-EXT-K7ZVFMM3TUXRXRZR -m comment --comment "pod traffic for ns0/svc0:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
    ];
    for (const line of lines) {
      const scanned = scanRule(line, line.indexOf(" ", 3), line.length, new Interner());
      expect(scanned).toBeDefined();
      const want = general(line)!;
      expect({ conds: scanned!.conds, target: scanned!.target, comment: scanned!.comment }).toEqual({ conds: want.conds, target: want.target, comment: want.comment });
    }
  });
});
