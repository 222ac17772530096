// The lab's connection accounting and LB line at scale: from GROUP_FROM_NODES nodes on, nodes whose
// counts say the same share one line, a node that differs keeps its own, and the last line names
// the nodes that do not add up; the article's three nodes keep a line each. The rows are built by
// compareWithLb from a ConnectionAccount and the LB's status before and after, as lab verify does.
import type { ConnectionAccount } from "../../verifier/checks";
import type { LbBackendStatus, LbStatus } from "../../lab/lb-control";
import { backendStates } from "../../lab/source";
import { accountingGroups, compareWithLb, connectionSection } from "../../lab/verify";

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);

function backend(name: string, proxyConnections: number, state: LbBackendStatus["state"] = "HEALTHY"): LbBackendStatus {
  return { name, ip: "10.0.0.1", port: 30080, state, proxyConnections, healthCheckConnections: 0, proxiedRequests: proxyConnections, proxyErrors: 0 };
}

function status(backends: LbBackendStatus[]): LbStatus {
  return { pid: 1, listen: "10.0.200.1:80", keepAlive: false, healthChecksPaused: true, healthCheckPath: "/", healthCheckIntervalMs: 1000, requestsReceived: 0, noBackendAnswers: 0, backends };
}

/**
 * lab verify's rows for these nodes: `opened` connections from the LB to each, `counted` new
 * connections at KUBE-NODEPORTS and at KUBE-SEP (a number, or [n-port, DNAT], or undefined: unread).
 */
function rows(nodes: string[], opened: (node: string) => number, counted: (node: string) => number | [number, number] | undefined) {
  const account: ConnectionAccount = {
    requests: 100,
    keepAlive: false,
    total: 0,
    explanation: [],
    nodes: nodes.map((node) => {
      const c = counted(node);
      if (c === undefined) return { node, endpoints: [], total: 0, unavailable: "counters after the requests were not read" };
      const [entered, dnat] = typeof c === "number" ? [c, c] : c;
      return { node, endpoints: [], total: dnat, nodePortEntries: { line: 45, rule: "-A KUBE-NODEPORTS -p tcp --dport 30080 -j KUBE-EXT-X", newConnections: entered } };
    }),
  };
  return compareWithLb(account, status(nodes.map((n) => backend(n, 0))), status(nodes.map((n) => backend(n, opened(n)))));
}

describe("lab connection accounting", () => {
  test("the article's three nodes keep one line each", () => {
    const section = connectionSection(rows(names(3), () => 2, () => 2), false);
    expect(section.lines).toEqual(names(3).map((n) => `${n}: the LB opened 2 connections; nat counted 2 at KUBE-NODEPORTS, 2 at KUBE-SEP DNAT: every connection accounted for`));
  });

  test("50 nodes that say the same are one line", () => {
    const section = connectionSection(rows(names(50), () => 2, () => 2), false);
    expect(section.lines).toEqual(["all 50 nodes, each: the LB opened 2 connections; nat counted 2 at KUBE-NODEPORTS, 2 at KUBE-SEP DNAT: every connection accounted for"]);
  });

  test("nodes that differ in a count or in being read are groups of their own, in node order, with a total", () => {
    // 30 requests over 50 nodes: the first 30 got one connection, the rest none; node-7's counters were not read.
    const r = rows(names(50), (n) => (Number(n.slice(5)) <= 30 ? 1 : 0), (n) => (n === "node-7" ? undefined : Number(n.slice(5)) <= 30 ? 1 : 0));
    const lines = connectionSection(r, false).lines;
    expect(lines).toEqual([
      "29 nodes, each: the LB opened 1 connection; nat counted 1 at KUBE-NODEPORTS, 1 at KUBE-SEP DNAT: every connection accounted for (node-1, node-2, node-3, node-4 and 25 more)",
      "node-7: the LB opened 1 connection; nat counted ? at KUBE-NODEPORTS, ? at KUBE-SEP DNAT: MISMATCH: nat counters not read: counters after the requests were not read",
      "20 nodes, each: the LB opened 0 connections; nat counted 0 at KUBE-NODEPORTS, 0 at KUBE-SEP DNAT: every connection accounted for (node-31, node-32, node-33, node-34 and 16 more)",
      "49 of 50 nodes accounted for; MISMATCH on 1 node: node-7",
    ]);
    expect(accountingGroups(r).map((g) => g.nodes.length)).toEqual([29, 1, 20]);
  });

  test("a mismatch is never folded into the nodes that add up, and the total names every node off", () => {
    // two nodes DNAT fewer than entered (a KUBE-SEP rule gone), with the same counts: one group of two
    const r = rows(names(12), () => 3, (n) => (n === "node-4" || n === "node-9" ? [3, 1] : 3));
    const lines = connectionSection(r, true).lines;
    expect(lines[0]).toMatch(/^10 nodes, each: the LB opened 3 connections; .*every connection accounted for \(node-1, node-2, node-3, node-5 and 6 more\)$/);
    expect(lines[1]).toBe("2 nodes, each: the LB opened 3 connections; nat counted 3 at KUBE-NODEPORTS, 1 at KUBE-SEP DNAT: MISMATCH: 2 connection(s) entered by n-port but were DNATed to no pod (a KUBE-SEP rule missing: they reach the node itself) (node-4, node-9)");
    expect(lines[2]).toBe("10 of 12 nodes accounted for; MISMATCH on 2 nodes: node-4, node-9");
    expect(lines).toHaveLength(3);
  });

  test("groups that all add up end with the totals", () => {
    const r = rows(names(6), (n) => (n === "node-1" ? 3 : 2), (n) => (n === "node-1" ? 3 : 2));
    expect(connectionSection(r, false).lines.at(-1)).toBe("all 6 nodes: the LB opened 13 connections; nat counted 13 at KUBE-NODEPORTS, 13 at KUBE-SEP DNAT: every connection accounted for");
  });
});

describe("the LB's backends in one line", () => {
  test("a few are named one by one", () => {
    expect(backendStates(names(3).map((n) => backend(n, 0, n === "node-2" ? "UNHEALTHY" : "HEALTHY")))).toBe("node-1 HEALTHY, node-2 UNHEALTHY, node-3 HEALTHY");
  });

  test("many are grouped by state, with the odd ones named and why", () => {
    expect(backendStates(names(50).map((n) => backend(n, 0)))).toBe("HEALTHY: all 50");
    const sick = { ...backend("node-9", 0, "UNHEALTHY"), lastCheckError: "connect ECONNREFUSED 10.0.0.19:30080" };
    expect(backendStates(names(50).map((n) => (n === "node-9" ? sick : backend(n, 0))))).toBe(
      "HEALTHY: node-1, node-2, node-3, node-4 and 45 more (49); UNHEALTHY: node-9 (connect ECONNREFUSED 10.0.0.19:30080)",
    );
  });
});
