// End to end on a real lab (root): lab up (idempotent), 100 requests from the client namespace,
// the verifier's 12 checks all pass, both pods answer, each node's nat counters account for every
// connection the LB opened, keep-alive moves them less, and lab down leaves nothing.
// Own prefix and address block, so a developer's running lab (gip-lab-, 10.213) is not touched.
import { existsSync } from "node:fs";
import { labDown, type DownReport } from "../../lab/down";
import { processesMentioning, rootLinks } from "../../lab/host";
import { lbStatus } from "../../lab/lb-control";
import { execInNamespace, listNamespaces } from "../../lab/netns";
import { labPaths } from "../../lab/state";
import { labNamespaces, labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { labVerify } from "../../lab/verify";
import { describeWithNamespaces } from "../support/namespaces";

const labCommands = ["sshd", "ssh-keygen"];

const t = labTopology({ prefix: "giplt-", net: "10.219" });
jest.setTimeout(120_000);

describeWithNamespaces("lab end to end (giplt-, 10.219.0.0/16)", () => {
  let downReport: DownReport | undefined;

  beforeAll(async () => {
    await labDown(t); // a previous run that was killed
    await labUp(t);
  });

  afterAll(async () => {
    // Always clean, even when a test failed; the last test asserts on a clean down.
    if (!downReport) await labDown(t);
  });

  test("lab up built every namespace, and a second lab up changes nothing", async () => {
    expect((await listNamespaces(t.prefix)).sort()).toEqual([...labNamespaces(t)].sort());
    const pidsBefore = (await labUp(t)).state.pids;
    const again = await labUp(t);
    expect(again.built).toBe(false);
    expect(again.state.pids).toEqual(pidsBefore);
  });

  test("the client has a route to the LB's public network only; the clusterIP is on no node interface", async () => {
    const routes = (await execInNamespace(t.client.namespace, ["ip", "-4", "route"])).stdout.trim().split("\n");
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatch(new RegExp(`^${t.publicCidr.replace(/\./g, "\\.")} dev `));
    for (const node of t.nodes) {
      const addrs = (await execInNamespace(node.namespace, ["ip", "-o", "-4", "addr"])).stdout;
      expect(addrs).not.toContain(t.service.clusterIP);
      expect(addrs).toContain(node.internalIp);
    }
  });

  test("verify: 100 requests from the client namespace, 12 of 12 claims pass, every connection counted", async () => {
    const socket = labPaths(t).lbControlSocket;
    const receivedBefore = (await lbStatus(socket)).requestsReceived;
    const outcome = await labVerify(t, { requests: 100, width: 80 });
    const notPassing = outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id} ${r.verdict}: ${r.summary}`);
    expect(notPassing).toEqual([]);
    expect(outcome.results).toHaveLength(12);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.terminal).toContain("12 pass, 0 fail, 0 cannot tell");
    // A healthy lab: nothing to diagnose, and the nodes' probes and forwarding evidence were read.
    expect(outcome.diagnosis).toEqual([]);
    for (const node of outcome.model.nodes) {
      expect(node.forwarding?.ipForward).toBe(true);
      expect(node.forwarding?.filter?.text).toContain("-A KUBE-FORWARD");
      expect(node.probes?.map((p) => p.outcome)).toEqual([{ kind: "http", status: 200 }, { kind: "http", status: 200 }, { kind: "http", status: 200 }]);
    }

    // The requests went from the client namespace to the LB (only reachable from there).
    const requests = outcome.model.requests!;
    expect(requests.url).toBe(`http://${t.lb.publicIp}:80/`);
    expect(requests.results).toHaveLength(100);
    expect(requests.results.every((r) => r.status === 200)).toBe(true);
    expect((await lbStatus(socket)).requestsReceived - receivedBefore).toBe(100);

    // Both pods answered, each with its own name and IP.
    for (const pod of t.pods) {
      const answers = requests.results.filter((r) => r.podName === pod.name);
      expect(answers.length).toBeGreaterThan(10);
      expect(answers.every((r) => r.podIp === pod.ip)).toBe(true);
    }

    // Per node: the LB opened N fresh connections (round robin: 34/33/33) and the node's
    // KUBE-NODEPORTS and KUBE-SEP DNAT rules counted exactly N new connections.
    expect(outcome.connections).toHaveLength(3);
    for (const c of outcome.connections) {
      expect(c.lbHealthCheckConnections).toBe(0);
      expect(c.lbProxyConnections).toBeGreaterThanOrEqual(33);
      expect(c.natNodePortConnections).toBe(c.lbProxyConnections);
      expect(c.natDnatConnections).toBe(c.lbProxyConnections);
      expect(c.accounted).toBe(true);
    }
    expect(outcome.connections.reduce((s, c) => s + c.lbProxyConnections, 0)).toBe(100);
    expect(outcome.account!.total).toBe(100);
    // Node-2 runs no pod and still DNATs: its connections went to pods on node-1 and node-3.
    const node2 = outcome.account!.nodes.find((n) => n.node === "node-2")!;
    expect(node2.total).toBeGreaterThanOrEqual(33);
    expect(node2.endpoints.every((e) => e.pod === "pod-1" || e.pod === "pod-2")).toBe(true);

    // The reports render from the same model; the terminal fits 80 columns.
    expect(Math.max(...outcome.terminal.split("\n").map((l) => [...l].length))).toBeLessThanOrEqual(80);
    expect(outcome.terminal).toMatch(/^ {2}node-2: the LB opened \d+ connections; nat counted \d+ at KUBE-NODEPORTS, \d+ at\n {4}KUBE-SEP DNAT: every connection accounted for$/m);
    const json = JSON.parse(outcome.json);
    expect(json.checks).toHaveLength(12);
    expect(json.lab.connections).toEqual(outcome.connections);
    // node-2's own counters in the path: what entered by n-port left by its KUBE-SEP rules to the pods on node-1 and node-3
    const sep = json.path.find((h: { hop: string }) => h.hop === "kube-sep").perNode.find((s: { node: string }) => s.node === "node-2");
    expect(sep.newConnections).toBe(node2.total);
    expect(sep.endpoints.map((e: { pod: string; podNode: string }) => `${e.pod}@${e.podNode}`).sort()).toEqual(["pod-1@node-1", "pod-2@node-3"]);
    expect(outcome.markdown).toContain("mermaid");
  });

  test("keep-alive: the LB reuses its node connections, so the nat counters move less than the requests", async () => {
    const outcome = await labVerify(t, { requests: 30, keepAlive: true });
    expect(outcome.model.requests!.results.every((r) => r.status === 200)).toBe(true);
    const opened = outcome.connections.reduce((s, c) => s + c.lbProxyConnections, 0);
    expect(opened).toBeLessThanOrEqual(3);
    expect(outcome.account!.total).toBe(opened);
    expect(outcome.connections.every((c) => c.accounted)).toBe(true);
    // Back to a fresh connection per request afterwards.
    expect((await lbStatus(labPaths(t).lbControlSocket)).keepAlive).toBe(false);
  });

  test("lab down leaves no namespace, link, process, state or rule", async () => {
    downReport = await labDown(t);
    expect(downReport.leftovers).toEqual([]);
    expect(downReport.removedNamespaces.sort()).toEqual([...labNamespaces(t)].sort());
    expect(downReport.stoppedPids.length).toBeGreaterThanOrEqual(6); // 2 pods, 3 sshd, LB
    // Looked at independently of the report:
    expect(await listNamespaces(t.prefix)).toEqual([]);
    expect((await rootLinks()).filter((l) => l.startsWith(t.prefix))).toEqual([]);
    expect(processesMentioning(`${t.stateDir}/`)).toEqual([]);
    expect(existsSync(t.stateDir)).toBe(false);
  });
}, labCommands);
