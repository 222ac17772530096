import { counterDeltas } from "../../verifier/iptables/counters";
import { readFixture } from "./helpers";

describe("counterDeltas", () => {
  // 60 new connections from the node to default/hello's clusterIP (tests/fixtures/make-fixtures.sh)
  const before = readFixture("writer-article.counters-before.txt");
  const after = readFixture("writer-article.counters-after.txt");
  const deltas = counterDeltas(before, after);
  const find = (chain: string, part: string) => deltas.filter((d) => d.chain === chain && d.text.includes(part));

  test("the clusterIP rule counted every connection", () => {
    const [svc] = find("KUBE-SERVICES", "default/hello cluster IP");
    expect(svc.packets).toBe(60);
    expect(svc.bytes).toBe(60 * 60);
  });

  test("the two DNAT rules split the 60 connections between them", () => {
    const dnats = deltas.filter((d) => d.text.includes("-j DNAT"));
    expect(dnats).toHaveLength(2);
    expect(dnats.reduce((n, d) => n + d.packets, 0)).toBe(60);
    for (const d of dnats) expect(d.packets).toBeGreaterThan(0);
  });

  test("only moved rules are listed, with their line in the after dump and without counters in the text", () => {
    const lines = after.split("\n");
    for (const d of deltas) {
      expect(d.packets + d.bytes).toBeGreaterThan(0);
      expect(lines[d.line - 1]).toBe(`[${/^\[(\d+):(\d+)\]/.exec(lines[d.line - 1])![1]}:${/^\[(\d+):(\d+)\]/.exec(lines[d.line - 1])![2]}] ${d.text}`);
    }
    expect(deltas.some((d) => d.text.includes("kube-dns"))).toBe(false);
  });

  test("identical dumps move nothing; rules are matched by text, not by line", () => {
    expect(counterDeltas(after, after)).toEqual([]);
    const shifted = after.replace("*nat\n", "*nat\n# a comment line shifts everything\n");
    expect(counterDeltas(after, shifted)).toEqual([]);
  });

  test("duplicate rules are paired in order; a rule new in `after` counts from zero", () => {
    const b = "*nat\n:X - [0:0]\n[1:10] -A X -j RETURN\n[5:50] -A X -j RETURN\nCOMMIT\n";
    const a = "*nat\n:X - [0:0]\n[1:10] -A X -j RETURN\n[7:70] -A X -j RETURN\n[3:30] -A X -j ACCEPT\nCOMMIT\n";
    expect(counterDeltas(b, a)).toEqual([
      { chain: "X", text: "-A X -j RETURN", line: 4, packets: 2, bytes: 20 },
      { chain: "X", text: "-A X -j ACCEPT", line: 5, packets: 3, bytes: 30 },
    ]);
  });
});
