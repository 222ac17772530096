// A 12-node lab for real (root): lab verify's report groups the nodes' connection accounting and
// the LB's backends as the path groups nodes, keeps a node that does not add up on a line of its
// own; `lab verify --nodes 4 --concurrency 1` (the compiled CLI) reads a sample of 4, one node
// after the other. Own prefix and block (giplfr-, 10.246), apart from tests/support/namespaces.ts's list.
// (50 nodes: `lab up --nodes 50` takes 12-23 s on the 2-core test machine, verify 16 s: that size
// is measured by bench/lab-fanout.ts, not run in the suite.)
import { spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { labDown } from "../../lab/down";
import { readState } from "../../lab/state";
import { labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { labVerify } from "../../lab/verify";
import { ROOT, cliArgs } from "../support/cli";
import { describeWithNamespaces } from "../support/namespaces";

const COUNT = 12;
const t = labTopology({ prefix: "giplfr-", net: "10.246", nodes: COUNT, healthCheckIntervalMs: 300 });
jest.setTimeout(180_000);

/** The lab's accounting section of a terminal report: the lines from its title to the next blank line. */
function accountingLines(terminal: string): string[] {
  const lines = terminal.split("\n");
  const start = lines.findIndex((l) => l.startsWith("Lab connection accounting"));
  const end = lines.findIndex((l, i) => i > start && l === "");
  // the title may wrap; each entry starts two spaces in and continues four in
  return lines
    .slice(start + 1, end)
    .filter((l) => l.startsWith("  "))
    .join("\n")
    .replace(/\n {4}(?=\S)/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

describeWithNamespaces(`lab verify on ${COUNT} nodes (giplfr-, 10.246.0.0/16)`, () => {
  beforeAll(async () => {
    await labDown(t);
    await labUp(t);
  });

  afterAll(async () => {
    const down = await labDown(t);
    expect(down.leftovers).toEqual([]);
  });

  test("the accounting of nodes that say the same is one line, the LB's backends one group", async () => {
    const log: string[] = [];
    // 24 requests, one connection each, round-robin over 12 nodes: 2 to every node
    const outcome = await labVerify(t, { requests: 24, width: 100, log: (l) => log.push(l) });
    expect(outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id}: ${r.summary}`)).toEqual([]);
    expect(outcome.connections.map((c) => `${c.node} ${c.lbProxyConnections} ${c.accounted}`)).toEqual(t.nodes.map((n) => `${n.name} 2 true`));
    expect(accountingLines(outcome.terminal)).toEqual([
      "all 12 nodes, each: the LB opened 2 connections; nat counted 2 at KUBE-NODEPORTS, 2 at KUBE-SEP DNAT: every connection accounted for",
    ]);
    expect(log.join("\n")).toMatch(/lab load balancer: HEALTHY: all 12\n/);
  });

  test("each node's sshd has its own processes, as a machine has, and ss -p there still names it", async () => {
    const unshare = readState(t)?.pids["sshd node-7"] as number;
    const sshd = Number(readFileSync(`/proc/${unshare}/task/${unshare}/children`, "utf8").trim().split(/\s+/)[0]);
    expect(readFileSync(`/proc/${sshd}/comm`, "utf8").trim()).toBe("sshd");
    expect(readlinkSync(`/proc/${sshd}/ns/pid`)).not.toBe(readlinkSync("/proc/self/ns/pid"));
    const outcome = await labVerify(t, { requests: 12, nodes: { kind: "named", names: ["node-7"] } });
    expect(outcome.model.nodes.map((n) => n.name)).toEqual(["node-7"]);
    expect(outcome.model.nodes[0]?.listeners).toContainEqual({ address: t.nodes[6]!.externalIp, port: t.sshPort, process: "sshd" });
  });

  test("lab verify --nodes 4 --concurrency 1 reads a sample of 4, one node after the other", () => {
    const r = spawnSync(process.execPath, [...cliArgs("lab/cli.ts"), "verify", "--nodes", "4", "--concurrency", "1", "--requests", "12", "--no-color"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH, LAB_PREFIX: t.prefix, LAB_NET: t.net },
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\n\s+/g, " ")).toMatch(/Nodes read: a sample of 4 of 12 nodes \(--nodes 4\): the 2 with the Service's pods/);
    // one at a time: each node is done before the next starts, so they finish in the lab's order
    const finished = [...r.stderr.matchAll(/ssh (node-\d+): (\d+)\/4 nodes/g)].map((m) => `${m[2]} ${m[1]}`);
    expect(finished).toHaveLength(4);
    const order = finished.map((f) => Number(f.split(" ")[1]!.slice(5)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order).toContain(1);
    expect(order).toContain(3);
    // fewer than 6 nodes read: the accounting keeps a line per node, for the 4 read
    const lines = accountingLines(r.stdout);
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.split(":")[0])).toEqual(order.map((n) => `node-${n}`));
  });

  test("a node whose counters could not be read keeps its own line and is named in the total", async () => {
    const sshd = readState(t)?.pids["sshd node-5"];
    expect(sshd).toBeGreaterThan(1);
    // node-5's sshd goes away once the counters before the requests are read: its counters after cannot be
    const outcome = await labVerify(t, {
      requests: 24,
      width: 100,
      log: (line) => {
        if (/ counters before/.test(line)) process.kill(sshd as number, "SIGKILL");
      },
    });
    expect(accountingLines(outcome.terminal)).toEqual([
      "11 nodes, each: the LB opened 2 connections; nat counted 2 at KUBE-NODEPORTS, 2 at KUBE-SEP DNAT: every connection accounted for (node-1, node-2, node-3, node-4 and 7 more)",
      "node-5: the LB opened 2 connections; nat counted ? at KUBE-NODEPORTS, ? at KUBE-SEP DNAT: MISMATCH: nat counters not read: counters after the requests were not read",
      "11 of 12 nodes accounted for; MISMATCH on 1 node: node-5",
    ]);
    expect(outcome.model.problems.map((p) => `${p.subject}: ${p.message}`).join("\n")).toMatch(/node-5: counters after the requests: cannot connect/);
  });
});
