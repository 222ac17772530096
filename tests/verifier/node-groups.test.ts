// A big cluster's report: nodes whose rules say the same are one group; the article's three nodes
// are always drawn one by one; a node that differs in any rule, share or verdict is its own group.
import { nodeGroups, someNames } from "../../verifier/report/common";
import type { PathHop, PathNodeStep } from "../../verifier/report/path";

function hops(nodes: { name: string; pods?: string[]; share?: number; verdict?: "pass" | "fail"; line?: number; count?: number }[]): PathHop[] {
  const per = (f: (n: (typeof nodes)[number], i: number) => Omit<PathNodeStep, "node">) => nodes.map((n, i) => ({ node: n.name, ...f(n, i) }));
  return [
    { hop: "node", name: "node", verdict: "pass", perNode: per((n, i) => ({ verdict: n.verdict ?? "pass", address: `10.128.0.${i + 1}`, port: 30080, pods: n.pods ?? [] })) },
    { hop: "kube-nodeports", name: "KUBE-NODEPORTS", verdict: "pass", perNode: per((n) => ({ verdict: "pass", port: 30080, line: n.line ?? 40, rule: "-A KUBE-NODEPORTS -p tcp --dport 30080 -j KUBE-EXT-X", ...(n.count !== undefined ? { newConnections: n.count } : {}) })) },
    {
      hop: "kube-sep",
      name: "KUBE-SEP",
      verdict: "pass",
      perNode: per((n) => ({ verdict: "pass", endpoints: [{ address: "10.4.0.5", port: 8080, share: n.share ?? 0.5, chain: "KUBE-SEP-A" }, { address: "10.4.2.5", port: 8080, share: 1 - (n.share ?? 0.5), chain: "KUBE-SEP-B" }] })),
    },
  ] as unknown as PathHop[];
}

type Spec = Parameters<typeof hops>[0][number];
const many = (count: number): Spec[] => Array.from({ length: count }, (_, i) => ({ name: `node-${i + 1}`, line: 40 + (i % 3), count: i }));

test("the article's three nodes are three groups even when alike", () => {
  expect(nodeGroups(hops(many(3)))).toEqual([{ node: "node-1", alike: [] }, { node: "node-2", alike: [] }, { node: "node-3", alike: [] }]);
});

test("100 nodes: the pods' nodes alone, the 98 alike in one group whatever their n-ip, line numbers and counters", () => {
  const nodes = many(100);
  nodes[0]!.pods = ["pod-1"];
  nodes[2]!.pods = ["pod-2"];
  const groups = nodeGroups(hops(nodes));
  expect(groups.map((g) => [g.node, g.alike.length])).toEqual([["node-1", 0], ["node-2", 97], ["node-3", 0]]);
});

test("a node with another share or a failing verdict is a group of its own", () => {
  const nodes = many(10);
  nodes[4]!.share = 0.25;
  nodes[7]!.verdict = "fail";
  const groups = nodeGroups(hops(nodes));
  expect(groups.map((g) => g.node)).toEqual(["node-1", "node-5", "node-8"]);
  expect(groups[0]!.alike).toHaveLength(7);
});

test("a group's names, a few and how many more", () => {
  expect(someNames(["a", "b"])).toBe("a, b");
  expect(someNames(["a", "b", "c", "d", "e", "f"])).toBe("a, b, c, d and 2 more");
});
