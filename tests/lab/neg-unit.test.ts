// The NEG lab's pure parts, without namespaces: the readiness gate as ingress-gce sets it, the
// NEG names and zones, the firewall read back from the lb namespace's filter table, the counters'
// contrast per endpoint, `lab up --backend` and `lab break --list` by path.
import { parseArgs } from "../../lab/args";
import { faultList, findFault, LAB_FAULTS } from "../../lab/faults";
import type { LbStatus } from "../../lab/lb-control";
import {
  compareNegWithLb,
  firewallFromLbFilter,
  movedPodIp,
  negLayout,
  negLoadBalancerModel,
  negReadinessCondition,
  NEG_READINESS_TIMEOUT_MS,
  placedPods,
} from "../../lab/neg";
import { NEG_FAULTS } from "../../lab/neg-faults";
import { labLoadBalancerModel } from "../../lab/source";
import { labTopology } from "../../lab/topology";
import type { Problem } from "../../verifier/model";

const t = labTopology({ prefix: "gipnu-", net: "10.213" });
const started = "2026-12-04T10:00:00.000Z";
const at = (iso: string) => Date.parse(iso);

describe("the readiness gate cloud.google.com/load-balancer-neg-ready", () => {
  const endpoint = (lastOkAt?: string) => ({ lastOkAt, zone: "lab-zone-a", group: "k8s1-x" });

  test("True by the LB's word once a health check passed after the pod started", () => {
    const c = negReadinessCondition(started, endpoint("2026-12-04T10:00:02.000Z"), "k8s1-x", at("2026-12-04T10:00:03.000Z"));
    expect([c.type, c.status, c.reason]).toEqual(["cloud.google.com/load-balancer-neg-ready", "True", "LoadBalancerNegReady"]);
    expect(c.message).toContain("lab-zone-a/k8s1-x");
  });

  test("a pass from before the pod started does not count: a new pod waits (False, LoadBalancerNegNotReady)", () => {
    const c = negReadinessCondition(started, endpoint("2026-12-04T09:59:59.000Z"), "k8s1-x", at("2026-12-04T10:00:05.000Z"));
    expect([c.status, c.reason]).toEqual(["False", "LoadBalancerNegNotReady"]);
    // nor one within the start time's uncertainty (a check the previous server answered as it was replaced)
    expect(negReadinessCondition(started, endpoint("2026-12-04T10:00:00.050Z"), "k8s1-x", at("2026-12-04T10:00:05.000Z")).status).toBe("False");
    // an endpoint no NEG lists: the message says it is not in a NEG
    expect(negReadinessCondition(started, undefined, "k8s1-x", at(started)).message).toMatch(/added to a NEG/);
  });

  test("after ingress-gce's 10 minutes without a pass it turns True by timeout, not by the LB", () => {
    const late = at(started) + NEG_READINESS_TIMEOUT_MS + 1000;
    const c = negReadinessCondition(started, endpoint(undefined), "k8s1-x", late);
    expect([c.status, c.reason]).toEqual(["True", "LoadBalancerNegTimeout"]);
    const justBefore = negReadinessCondition(started, endpoint(undefined), "k8s1-x", at(started) + NEG_READINESS_TIMEOUT_MS - 1000);
    expect(justBefore.status).toBe("False");
  });

  test("sticky: a stopped pod whose endpoint once passed keeps its gate True", () => {
    expect(negReadinessCondition(undefined, endpoint(started), "k8s1-x", at(started) + 5000).status).toBe("True");
    expect(negReadinessCondition(undefined, endpoint(undefined), "k8s1-x", at(started) + 5000).status).toBe("False");
  });
});

describe("NEG layout", () => {
  test("one NEG name in every zone with nodes, named as the NEG controller names them; neg-status names both", () => {
    const layout = negLayout(t);
    expect(layout.zones).toEqual({ "node-1": "lab-zone-a", "node-2": "lab-zone-b", "node-3": "lab-zone-c" });
    expect(layout.negName).toMatch(/^k8s1-[0-9a-f]{8}-default-hello-80-[0-9a-f]{8}$/);
    expect(JSON.parse(layout.negStatus)).toEqual({ network_endpoint_groups: { "80": layout.negName }, zones: ["lab-zone-a", "lab-zone-b", "lab-zone-c"] });
    // another lab, another cluster uid
    expect(negLayout(labTopology({ prefix: "gipnv-", net: "10.213" })).negName).not.toBe(layout.negName);
  });

  test("a moved pod gets an address in its new node's range, never its home address", () => {
    const moved = placedPods(t, { negMoves: { "pod-2": "node-2" } });
    const pod2 = moved.find((p) => p.name === "pod-2")!;
    expect(pod2).toMatchObject({ nodeName: "node-2", homeNode: "node-3", ip: "10.213.66.11" });
    expect(movedPodIp(t, t.pods[0], t.nodes[2])).toBe("10.213.67.10");
    expect(placedPods(t, undefined).map((p) => p.ip)).toEqual(t.pods.map((p) => p.ip));
  });
});

describe("the lab's VPC firewall, read back from the lb namespace", () => {
  const save = (dports?: string) =>
    [
      "*filter",
      ":OUTPUT ACCEPT [0:0]",
      ":LAB-VPC-FIREWALL - [0:0]",
      "-A OUTPUT -o gipnu-vpc -p tcp -m conntrack --ctstate NEW -j LAB-VPC-FIREWALL",
      ...(dports ? [`-A LAB-VPC-FIREWALL -p tcp -m multiport --dports ${dports} -m comment --comment "lab-allow-lb-health-checks" -j ACCEPT`] : []),
      '-A LAB-VPC-FIREWALL -m comment --comment "implied deny ingress" -j DROP',
      "COMMIT",
    ].join("\n");

  test("the rule it stands for: the health-check ranges to the nodes' tag on the ports the chain accepts", () => {
    const problems: Problem[] = [];
    const rule = firewallFromLbFilter(t, save("30000:32767,8080"), problems);
    expect(problems).toEqual([]);
    expect(rule).toMatchObject({
      name: t.lb.firewallRule,
      direction: "INGRESS",
      sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
      targetTags: [t.networkTag],
      allowed: [{ protocol: "tcp", ports: ["30000-32767", "8080"] }],
      disabled: false,
    });
    expect(firewallFromLbFilter(t, save("30000:32767"), problems)!.allowed).toEqual([{ protocol: "tcp", ports: ["30000-32767"] }]);
  });

  test("no ACCEPT rule: a rule that admits nothing; no chain: no rule and a problem saying how to repair", () => {
    const problems: Problem[] = [];
    expect(firewallFromLbFilter(t, save(), problems)).toMatchObject({ allowed: [], disabled: true });
    expect(firewallFromLbFilter(t, "*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", problems)).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toContain("LAB-VPC-FIREWALL");
    expect(problems[0].hint).toContain("repair");
  });
});

const backend = (ip: string, instance: string, zone: string, extra: Partial<LbStatus["backends"][number]> = {}): LbStatus["backends"][number] => ({
  name: `${ip}:8080`,
  ip,
  port: 8080,
  instance,
  zone,
  group: negLayout(t).negName,
  state: "HEALTHY",
  proxyConnections: 0,
  healthCheckConnections: 0,
  proxiedRequests: 0,
  proxyErrors: 0,
  ...extra,
});
const status = (backends: LbStatus["backends"]): LbStatus => ({
  pid: 1,
  listen: "x",
  keepAlive: false,
  healthChecksPaused: true,
  healthCheckPath: "/",
  healthCheckIntervalMs: 1000,
  requestsReceived: 0,
  noBackendAnswers: 0,
  backends,
});

describe("the LB side of the NEG lab", () => {
  test("backends are the NEGs of the attached zones; a detached zone's NEG is still listed, with no health from the backend service", () => {
    const s = status([
      backend("10.213.65.2", "node-1", "lab-zone-a"),
      backend("10.213.67.2", "node-3", "lab-zone-c", { attached: false, state: "UNKNOWN" }),
    ]);
    const lb = negLoadBalancerModel(t, labLoadBalancerModel(t, s), s, undefined);
    const bs = lb.backendServices[0];
    expect(bs.backends.map((b) => [b.kind, b.zone])).toEqual([
      ["networkEndpointGroup", "lab-zone-a"],
      ["networkEndpointGroup", "lab-zone-b"],
    ]);
    expect(bs.health.map((h) => [h.ipAddress, h.instance, h.state, h.groupKind])).toEqual([["10.213.65.2", "node-1", "HEALTHY", "networkEndpointGroup"]]);
    expect(lb.networkEndpointGroups!.map((n) => [n.zone, n.size, n.endpoints!.map((e) => `${e.ipAddress}:${e.port}@${e.instance}`)])).toEqual([
      ["lab-zone-a", 1, ["10.213.65.2:8080@node-1"]],
      ["lab-zone-b", 0, []],
      ["lab-zone-c", 1, ["10.213.67.2:8080@node-3"]],
    ]);
    expect(lb.networkEndpointGroups![2].endpoints![0].healths).toEqual([]);
    expect(lb.instanceGroups).toEqual([]);
    expect(lb.urlMap!.defaultService).toBe(bs.name);
    expect(lb.healthChecks![0]).toMatchObject({ portSpecification: "USE_SERVING_PORT", requestPath: "/" });
    expect(lb.healthChecks![0].port).toBeUndefined();
  });

  test("the LB not read: NEGs are named but their endpoints unknown, not empty", () => {
    const lb = negLoadBalancerModel(t, labLoadBalancerModel(t, undefined), undefined, undefined);
    expect(lb.networkEndpointGroups!.every((n) => n.endpoints === undefined)).toBe(true);
    expect(lb.annotations["ingress.kubernetes.io/backends"]).toContain("Unknown");
  });
});

describe("the counters' contrast per NEG endpoint", () => {
  const before = status([backend("10.213.65.2", "node-1", "lab-zone-a"), backend("10.213.67.2", "node-3", "lab-zone-c")]);
  const after = status([
    backend("10.213.65.2", "node-1", "lab-zone-a", { proxyConnections: 6 }),
    backend("10.213.67.2", "node-3", "lab-zone-c", { proxyConnections: 4 }),
  ]);
  const answers = [...Array(6).fill({ podIp: "10.213.65.2", status: 200 }), ...Array(4).fill({ podIp: "10.213.67.2", status: 200 })];
  const still = { nodes: ["node-1", "node-2", "node-3"].map((node) => ({ node, total: 0, nodePortEntries: { newConnections: 0 } })) };

  test("the LB's connections reached the pods while the nodes' KUBE-NODEPORTS and KUBE-SEP stayed still: the nat box skipped", () => {
    const rows = compareNegWithLb(still, answers, t.pods, before, after);
    expect(rows.map((r) => [r.endpoint, r.pod, r.node, r.lbProxyConnections, r.podAnswers, r.natSkipped])).toEqual([
      ["10.213.65.2:8080", "pod-1", "node-1", 6, 6, true],
      ["10.213.67.2:8080", "pod-2", "node-3", 4, 4, true],
    ]);
  });

  test("a counter that moved, or counters not read, is not called skipped", () => {
    const moved = { nodes: still.nodes.map((n) => (n.node === "node-3" ? { ...n, total: 2, nodePortEntries: { newConnections: 2 } } : n)) };
    const rows = compareNegWithLb(moved, answers, t.pods, before, after);
    expect(rows[1].natSkipped).toBe(false);
    expect(rows[1].reason).toMatch(/counted 2 at KUBE-NODEPORTS/);
    const unread = compareNegWithLb({ nodes: [{ node: "node-1", total: 0, unavailable: "ssh failed" }] }, answers, t.pods, before, after);
    expect(unread.map((r) => r.natSkipped)).toEqual([false, false]);
    expect(unread[0].reason).toContain("ssh failed");
    expect(compareNegWithLb(still, answers, t.pods, undefined, after)).toEqual([]);
  });
});

describe("lab up --backend and lab break --list by path", () => {
  test("--backend takes instance-group or neg, for lab up only", () => {
    expect(parseArgs(["up", "--backend", "neg"])).toMatchObject({ backend: "neg", errors: [] });
    expect(parseArgs(["up", "--backend=instance-group"])).toMatchObject({ backend: "instance-group", errors: [] });
    expect(parseArgs(["up"]).backend).toBeUndefined();
    expect(parseArgs(["up", "--backend", "negs"]).errors).toEqual(['--backend must be instance-group or neg, got "negs"']);
    expect(parseArgs(["up", "--backend"]).errors).toEqual(["--backend needs a value: instance-group or neg"]);
    expect(parseArgs(["verify", "--backend", "neg"]).errors).toEqual(["--backend is an option of lab up, not of lab verify"]);
  });

  test("a NEG lab lists the faults of its path and names the others with the path they need", () => {
    const neg = faultList(t, "neg");
    for (const f of NEG_FAULTS) expect(neg).toContain(`  ${f.id}\n`);
    expect(neg).toContain("  health-check-404\n");
    expect(neg).not.toContain("  nat-flushed\n");
    expect(neg).toMatch(/need a lab built with --backend instance-group: nat-flushed, sep-rule-deleted, external-traffic-policy-local, forward-drop, ip-forward-off/);
    const ig = faultList(t, "instance-group");
    for (const f of LAB_FAULTS) expect(ig).toContain(`  ${f.id}\n`);
    expect(ig).toMatch(/need a lab built with --backend neg: endpoint-stale, neg-zone-detached, neg-forward-drop, firewall-no-pod-port/);
    // no lab up: every fault, each with the path it needs
    expect(faultList(t)).toMatch(/ {2}endpoint-stale {3}\[lab up --backend neg\]/);
    expect(faultList(t)).toMatch(/ {2}health-check-404 {3}\[lab up --backend instance-group or neg\]/);
    expect(findFault("endpoint-stale")?.backends).toEqual(["neg"]);
  });
});
