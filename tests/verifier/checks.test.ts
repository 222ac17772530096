// runChecks on the hand-written model of the article's cluster: each claim passes, fails and
// cannot tell, with the evidence (rule lines with their numbers, API fields) asserted.
import type { CheckResult, ClaimId, PathModel } from "../../verifier/model";
import { runChecks, accountNewConnections } from "../../verifier/checks";
import { gkeModel, CLUSTER_IP, LB_IP, NODES, NODE_PORT, PODS } from "./fixtures/gke-model";
import { lineOf, natDump } from "./fixtures/nat-dump";

const SVC_CHAIN = "KUBE-SVC-3GVTAQ3OJ7IGI3M3";

function check(model: PathModel, id: ClaimId): CheckResult {
  const r = runChecks(model).find((x) => x.id === id);
  if (!r) throw new Error(`no result for ${id}`);
  return r;
}
const details = (r: CheckResult) => r.evidence.map((e) => `${e.source} | ${e.detail}`).join("\n");
const withoutLines = (text: string, ...needles: string[]) => text.split("\n").filter((l) => !needles.some((n) => l.includes(n))).join("\n");

describe("the article's cluster, as collected", () => {
  const results = runChecks(gkeModel({ counters: true }));

  test("every claim C1..C12 passes, in order", () => {
    expect(results.map((r) => r.id)).toEqual(["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12"]);
    for (const r of results) expect({ id: r.id, verdict: r.verdict, summary: r.summary }).toEqual({ id: r.id, verdict: "pass", summary: r.summary });
    for (const r of results) expect(r.evidence.length).toBeGreaterThan(0);
  });

  test("C2 cites the KUBE-SERVICES rule for the clusterIP with its line number, on each node", () => {
    const r = results.find((x) => x.id === "C2")!;
    const line = lineOf(natDump(), `-d ${CLUSTER_IP}/32 -p tcp -m comment --comment "ingress-path/hello:http cluster IP" -m tcp --dport 80 -j ${SVC_CHAIN}`);
    expect(line).toBeGreaterThan(0);
    expect(r.evidence).toHaveLength(3);
    for (const n of NODES) expect(details(r)).toContain(`node ${n.name}: sudo iptables-save -t nat | line ${line}: -A KUBE-SERVICES -d ${CLUSTER_IP}/32`);
  });

  test("C3 names the pod-less node and cites the --dport rule", () => {
    const r = results.find((x) => x.id === "C3")!;
    expect(r.summary).toContain(NODES[1].name);
    const line = lineOf(natDump(), `--dport ${NODE_PORT} -j KUBE-EXT-`);
    expect(details(r)).toContain(`${NODES[1].name}: sudo iptables-save -t nat (runs no pod of the Service) | line ${line}: -A KUBE-NODEPORTS`);
  });

  test("C6 follows nodeIP:nodePort into the clusterIP's service chain", () => {
    const r = results.find((x) => x.id === "C6")!;
    expect(r.summary).toContain(SVC_CHAIN);
    expect(details(r)).toContain(`${NODES[0].internalIp}:${NODE_PORT} enters ${SVC_CHAIN}; ${CLUSTER_IP}:80 enters ${SVC_CHAIN}`);
    expect(details(r)).toContain(`line ${lineOf(natDump(), "-A KUBE-EXT-3GVTAQ3OJ7IGI3M3 -j KUBE-SVC")}:`);
    expect(details(r)).toContain(`line ${lineOf(natDump(), `--dport ${NODE_PORT} -j KUBE-EXT`)}: -A KUBE-NODEPORTS`);
    expect(details(r)).not.toContain("-A PREROUTING"); // only the hops from the nodePort match to the service chain
  });

  test("C7 shows the 50/50 split with the probability rule and the DNAT rule", () => {
    const r = results.find((x) => x.id === "C7")!;
    expect(r.summary).toContain("10.8.0.12:8080 50%");
    expect(r.summary).toContain("10.8.2.7:8080 50%");
    expect(details(r)).toContain(`10.8.0.12:8080 (${PODS[0].name}) share 50.0%`);
    expect(details(r)).toContain(`line ${lineOf(natDump(), "--probability 0.50000000000")}:`);
    expect(details(r)).toContain(`line ${lineOf(natDump(), "DNAT --to-destination 10.8.2.7:8080")}:`);
  });

  test("C9..C11 cite the API fields", () => {
    expect(details(results.find((x) => x.id === "C9")!)).toContain(`IPAddress=${LB_IP}`);
    expect(details(results.find((x) => x.id === "C10")!)).toContain(`namedPorts=port${NODE_PORT}:${NODE_PORT}`);
    const c11 = details(results.find((x) => x.id === "C11")!);
    // the VPC's decision per range and node, naming the rule that decided
    expect(c11).toContain(`130.211.0.0/22 -> ${NODES[0].name} tcp:${NODE_PORT}: allow by k8s-fw-l7--`);
    expect(c11).toContain(`35.191.0.0/16 -> ${NODES[2].name} tcp:${NODE_PORT}: allow by k8s-fw-l7--`);
    expect(c11.match(/HEALTHY/g)).toHaveLength(3);
  });
});

describe("fail and cannot-tell, claim by claim", () => {
  test("C1: a private node is a fact, not a failure; a node outside the groups fails as such; no load balancer data cannot tell", () => {
    const m = gkeModel();
    m.loadBalancer!.instances[1].externalIp = undefined;
    const r = check(m, "C1");
    expect(r.verdict).toBe("pass");
    expect(r.summary).toContain(`Fact: ${NODES[1].name} is private (no external IP`);

    const out = gkeModel();
    out.loadBalancer!.instanceGroups[0].instances = out.loadBalancer!.instanceGroups[0].instances.filter((n) => n !== NODES[2].name);
    out.loadBalancer!.instances = out.loadBalancer!.instances.filter((i) => i.name !== NODES[2].name);
    const o = check(out, "C1");
    expect(o.verdict).toBe("fail");
    expect(o.summary).toContain(`node ${NODES[2].name}`);
    expect(o.summary).toContain("is in none of the instance groups");
    expect(o.summary).not.toContain("no VM instance found");

    const n = gkeModel();
    n.loadBalancer = undefined;
    n.problems.push({ source: "gcp", message: "compute.instanceGroups.get: 403 permission denied", hint: "grant roles/compute.viewer" });
    const u = check(n, "C1");
    expect(u.verdict).toBe("cannot-tell");
    expect(u.summary).toContain("403 permission denied");
    // one failure never hides the others: the node-side claims still pass
    expect(check(n, "C3").verdict).toBe("pass");
  });

  test("C2: a node without the Service's rules fails; an unreachable node cannot tell", () => {
    const m = gkeModel();
    m.nodes[1].nat!.text = withoutLines(natDump(), "3GVTAQ3OJ7IGI3M3", "EDWA6B5VDIBQD5SP", "HEWFRD2WK32HJUJ3");
    const r = check(m, "C2");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain(`${NODES[1].name}: no nat rule for ${CLUSTER_IP}:80`);

    const u = gkeModel();
    u.nodes[2] = { ...u.nodes[2], reachable: false, nat: undefined, addresses: undefined, listeners: undefined };
    u.problems.push({ source: "ssh", subject: NODES[2].name, message: "connect ETIMEDOUT 34.41.120.13:22", hint: "allow tcp:22 from your address" });
    const c = check(u, "C2");
    expect(c.verdict).toBe("cannot-tell");
    expect(c.summary).toContain("connect ETIMEDOUT 34.41.120.13:22");
    expect(c.evidence).toHaveLength(2);
  });

  test("C3: the pod-less node without the nodePort rule fails; an unknown nodePort cannot tell", () => {
    const m = gkeModel();
    m.nodes[1].nat!.text = withoutLines(natDump(), `--dport ${NODE_PORT}`);
    const r = check(m, "C3");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain(`${NODES[1].name}: no rule for nodePort ${NODE_PORT}`);

    const u = gkeModel();
    delete u.kubernetes!.service!.ports[0].nodePort;
    delete u.target.expected!.nodePort;
    u.problems.push({ source: "kubernetes", message: "services \"hello\" is forbidden" });
    const c = check(u, "C3");
    expect(c.verdict).toBe("cannot-tell");
    expect(c.summary).toContain("nodePort");
    expect(c.summary).toContain("forbidden");
  });

  test("C4: the clusterIP on an interface (IPVS mode) fails; unknown addresses cannot tell", () => {
    const m = gkeModel();
    m.nodes[0].addresses!.push({ ifname: "kube-ipvs0", address: CLUSTER_IP, prefixLength: 32 });
    const r = check(m, "C4");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain(`${CLUSTER_IP} is on kube-ipvs0`);
    const u = gkeModel();
    u.nodes[0].addresses = undefined;
    expect(check(u, "C4").verdict).toBe("cannot-tell");
    expect(check(u, "C4").summary).toContain("ip -o addr");
  });

  test("C5: a process on the nodePort fails; unknown sockets cannot tell", () => {
    const m = gkeModel();
    m.nodes[2].listeners!.push({ address: "*", port: NODE_PORT, process: "kube-proxy" });
    const r = check(m, "C5");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain(`*:${NODE_PORT} (kube-proxy)`);
    const u = gkeModel();
    u.nodes[2].listeners = undefined;
    expect(check(u, "C5").verdict).toBe("cannot-tell");
  });

  test("C6: nodePort traffic kept local (KUBE-SVL) fails; no dump anywhere cannot tell", () => {
    const m = gkeModel();
    const local = natDump()
      .replace(":KUBE-SVC-3GVTAQ3OJ7IGI3M3 - [0:0]", ":KUBE-SVC-3GVTAQ3OJ7IGI3M3 - [0:0]\n:KUBE-SVL-3GVTAQ3OJ7IGI3M3 - [0:0]")
      .replace("-A KUBE-EXT-3GVTAQ3OJ7IGI3M3 -j KUBE-SVC-3GVTAQ3OJ7IGI3M3", "-A KUBE-EXT-3GVTAQ3OJ7IGI3M3 -j KUBE-SVL-3GVTAQ3OJ7IGI3M3")
      .replace("COMMIT", '-A KUBE-SVL-3GVTAQ3OJ7IGI3M3 -m comment --comment "ingress-path/hello:http -> 10.8.0.12:8080" -j KUBE-SEP-EDWA6B5VDIBQD5SP\nCOMMIT');
    m.nodes[0].nat!.text = local;
    const r = check(m, "C6");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain("KUBE-SVL-3GVTAQ3OJ7IGI3M3");
    expect(r.summary).toContain("externalTrafficPolicy Local");

    const u = gkeModel();
    u.nodes.forEach((n) => (n.nat = undefined));
    const c = check(u, "C6");
    expect(c.verdict).toBe("cannot-tell");
    expect(c.summary).toContain("the nat table was not collected");
  });

  test("C7: a ready endpoint the rules do not know fails; no endpoints at all cannot tell", () => {
    const m = gkeModel();
    m.kubernetes!.endpoints.push({ ip: "10.8.1.9", port: 8080, ready: true, podName: "hello-5d7c9f6b8-zzzzz" });
    const r = check(m, "C7");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain("10.8.1.9:8080");
    const u = gkeModel();
    u.kubernetes!.endpoints = [];
    u.kubernetes!.pods = [];
    expect(check(u, "C7").verdict).toBe("cannot-tell");
  });

  test("C8: two pods on one node fail, a pod on every node fails, no Kubernetes data cannot tell", () => {
    const m = gkeModel();
    m.kubernetes!.pods[1].nodeName = NODES[0].name;
    expect(check(m, "C8").verdict).toBe("fail");
    expect(check(m, "C8").summary).toContain(`share node ${NODES[0].name}`);
    const all = gkeModel();
    all.kubernetes!.pods.push({ name: "hello-5d7c9f6b8-third", ip: "10.8.1.9", nodeName: NODES[1].name, ready: true, labels: { app: "hello" } });
    expect(check(all, "C8").summary).toContain("every one of the 3 nodes runs a pod");
    const u = gkeModel();
    u.kubernetes = undefined;
    u.problems.push({ source: "kubernetes", message: "connect ECONNREFUSED 127.0.0.1:1" });
    expect(check(u, "C8").verdict).toBe("cannot-tell");
    expect(check(u, "C8").summary).toContain("ECONNREFUSED");
  });

  test("C9: an internal, private forwarding rule fails; in the lab a private address is accepted", () => {
    const m = gkeModel();
    m.loadBalancer!.forwardingRule!.ipAddress = "10.128.0.50";
    m.loadBalancer!.forwardingRule!.loadBalancingScheme = "INTERNAL_MANAGED";
    m.target.loadBalancerIp = "10.128.0.50";
    m.kubernetes!.ingress!.loadBalancerIps = ["10.128.0.50"];
    const r = check(m, "C9");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain("not external");
    expect(r.summary).toContain("10.128.0.50 is not a public address");

    const lab = gkeModel();
    lab.target.kind = "lab";
    lab.loadBalancer!.forwardingRule!.ipAddress = "10.77.0.1";
    lab.target.loadBalancerIp = "10.77.0.1";
    lab.kubernetes!.ingress!.loadBalancerIps = ["10.77.0.1"];
    const l = check(lab, "C9");
    expect(l.verdict).toBe("pass");
    expect(details(l)).toContain("a private address stands in for the public IP");

    const u = gkeModel();
    u.loadBalancer = undefined;
    u.kubernetes!.ingress!.annotations = {};
    expect(check(u, "C9").verdict).toBe("cannot-tell");
    expect(check(u, "C9").summary).toBe("The forwarding rule was not read: the Ingress has no ingress.kubernetes.io/* annotations: the controller has not made a load balancer");
    // the controller's own reason, from the Ingress's Warning events, is quoted; said once
    u.kubernetes!.events = [{ type: "Warning", reason: "Translate", message: 'Translation failed: invalid ingress spec: service "ingress-path/hello" is type "ClusterIP", expected "NodePort" or "LoadBalancer" when not using NEGs', involvedObject: "Ingress/ingress-path/hello", count: 4 }];
    u.kubernetes!.service!.type = "ClusterIP";
    const c = check(u, "C9").summary;
    expect(c).toContain('the controller says: Translate: "Translation failed');
    expect(c).toContain("is type ClusterIP, so the controller will not make a load balancer");
    expect(c).not.toMatch(/few minutes/);
    expect(c.match(/annotations/g)).toHaveLength(1);
  });

  test("C10: a backend service on another port fails, a group without the named port fails, no URL map cannot tell", () => {
    const m = gkeModel();
    m.loadBalancer!.backendServices[0].portName = "port30000";
    expect(check(m, "C10").verdict).toBe("fail");
    expect(check(m, "C10").summary).toContain(`uses port30000, not port${NODE_PORT}`);
    const g = gkeModel();
    g.loadBalancer!.instanceGroups[0].namedPorts = [{ name: "http", port: 80 }];
    expect(check(g, "C10").summary).toContain(`has no named port port${NODE_PORT}`);
    const u = gkeModel();
    u.loadBalancer!.urlMap = undefined;
    expect(check(u, "C10").verdict).toBe("cannot-tell");
  });

  test("C11: a missing health-check range fails, an UNHEALTHY backend fails, no health cannot tell", () => {
    const m = gkeModel();
    m.loadBalancer!.healthCheckFirewalls[0].sourceRanges = ["130.211.0.0/22"];
    expect(check(m, "C11").verdict).toBe("fail");
    expect(check(m, "C11").summary).toContain("35.191.0.0/16");
    const h = gkeModel();
    h.loadBalancer!.backendServices[0].health[1].state = "UNHEALTHY";
    expect(check(h, "C11").summary).toContain(`${NODES[1].name} is UNHEALTHY`);
    const p = gkeModel();
    p.loadBalancer!.healthCheckFirewalls[0].allowed = [{ protocol: "tcp", ports: ["80", "8080"] }];
    expect(check(p, "C11").summary).toContain(`tcp:${NODE_PORT}`);
    const u = gkeModel();
    u.loadBalancer!.backendServices[0].health = [];
    expect(check(u, "C11").verdict).toBe("cannot-tell");
  });

  test("C12: errors fail; a pod that never answered cannot tell; answers from a stranger fail", () => {
    const m = gkeModel();
    m.requests!.results.splice(0, 3, { error: "ECONNRESET" }, { error: "ECONNRESET" }, { status: 502 });
    const r = check(m, "C12");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain("2 × ECONNRESET");
    expect(r.summary).toContain("1 × HTTP 502");
    const one = gkeModel();
    one.requests!.results = one.requests!.results.map(() => ({ status: 200, podName: PODS[0].name }));
    expect(check(one, "C12").verdict).toBe("cannot-tell");
    expect(check(one, "C12").summary).toContain(`${PODS[1].name} never answered`);
    const stranger = gkeModel();
    stranger.requests!.results[4] = { status: 200, podName: "old-pod-abc" };
    expect(check(stranger, "C12").verdict).toBe("fail");
    expect(check(stranger, "C12").summary).toContain("old-pod-abc");
    const silent = gkeModel();
    silent.requests!.results = silent.requests!.results.map(() => ({ error: "ETIMEDOUT" }));
    expect(check(silent, "C12").verdict).toBe("cannot-tell");
    expect(check(silent, "C12").summary).toContain("None of the 20 requests got an HTTP answer (20 × ETIMEDOUT)");
    const none = gkeModel();
    none.requests = undefined;
    none.problems.push({ source: "requests", message: "requests were skipped (--requests 0)" });
    expect(check(none, "C12").verdict).toBe("cannot-tell");
  });
});

describe("end to end: new connections per KUBE-SEP rule", () => {
  test("counter deltas per node add up to the requests", () => {
    const account = accountNewConnections(gkeModel({ counters: true }))!;
    expect(account.nodes.map((n) => n.total)).toEqual([7, 6, 7]);
    expect(account.total).toBe(20);
    expect(account.requests).toBe(20);
    const first = account.nodes[0].endpoints.find((e) => e.endpoint === "10.8.0.12:8080")!;
    expect(first).toMatchObject({ chain: "KUBE-SEP-EDWA6B5VDIBQD5SP", pod: PODS[0].name, newConnections: 4 });
    expect(first.line).toBe(lineOf(natDump(), "DNAT --to-destination 10.8.0.12:8080"));
    expect(account.nodes[1].nodePortEntries?.newConnections).toBe(6);
    expect(account.explanation.join(" ")).toContain("first packet");
  });

  test("C12 evidence carries the per-rule counts", () => {
    const r = check(gkeModel({ counters: true }), "C12");
    expect(details(r)).toContain(`node ${NODES[2].name}: iptables-save -c -t nat before/after | +5 new connections to 10.8.2.7:8080 (${PODS[1].name})`);
    expect(details(r)).toContain("20 new connections DNATed to the pods on all nodes for 20 requests");
  });
});

describe("today's GKE defaults are explained, not reported as broken", () => {
  test("Dataplane V2: the iptables claims cannot tell, with the reason; nothing fails", () => {
    const m = gkeModel();
    m.kubernetes!.datapath = "dataplane-v2";
    const cilium = "*nat\n:PREROUTING ACCEPT [0:0]\n:CILIUM_PRE_nat - [0:0]\n-A PREROUTING -m comment --comment \"cilium-feeder: CILIUM_PRE_nat\" -j CILIUM_PRE_nat\nCOMMIT\n";
    m.nodes.forEach((n) => (n.nat!.text = cilium));
    const results = runChecks(m);
    expect(results.filter((r) => r.verdict === "fail")).toEqual([]);
    for (const id of ["C2", "C3", "C6", "C7"]) {
      const r = results.find((x) => x.id === id)!;
      expect(r.verdict).toBe("cannot-tell");
      expect(r.summary).toContain("Dataplane V2");
      expect(r.summary).toContain("LEGACY_DATAPATH");
    }
    expect(results.find((x) => x.id === "C4")!.verdict).toBe("pass");
  });

  test("NEG backends whose NEGs were not read: C1, C10, C11 cannot tell, naming the NEG and the command; nothing fails", () => {
    const m = gkeModel();
    const neg = "k8s1-2c3d4e5f-ingress-path-hello-80-6b1e4f2a";
    m.kubernetes!.service!.annotations["cloud.google.com/neg"] = '{"ingress": true}';
    m.kubernetes!.service!.annotations["cloud.google.com/neg-status"] = JSON.stringify({ network_endpoint_groups: { "80": neg }, zones: ["us-central1-a"] });
    m.kubernetes!.negStatus = { networkEndpointGroups: { "80": neg }, zones: ["us-central1-a"], raw: m.kubernetes!.service!.annotations["cloud.google.com/neg-status"] };
    m.loadBalancer!.backendServices[0].backends = [{ group: neg, kind: "networkEndpointGroup", zone: "us-central1-a" }];
    m.loadBalancer!.instanceGroups = [];
    m.loadBalancer!.backendServices[0].portName = "http";
    // the L7 rule admits p-port too, as ingress-gce writes it for NEGs
    m.loadBalancer!.healthCheckFirewalls[0]!.allowed = [{ protocol: "tcp", ports: ["30000-32767", "8080"] }];
    const results = runChecks(m);
    expect(results.filter((r) => r.verdict === "fail")).toEqual([]);
    for (const id of ["C1", "C10", "C11"]) {
      const r = results.find((x) => x.id === id)!;
      expect({ id, verdict: r.verdict }).toEqual({ id, verdict: "cannot-tell" });
      expect(r.summary).toContain(`NEG us-central1-a/${neg} was not read`);
      expect(r.summary).toContain("gcloud compute network-endpoint-groups describe");
    }
  });
});
