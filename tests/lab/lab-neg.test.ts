// The container-native lab end to end (root): `lab up --backend neg`, requests from the client
// namespace reach the pods through their NEG endpoints p-ip:p-port, the claims all hold, and the
// nodes' KUBE-NODEPORTS / KUBE-SEP counters stay still while the pods answer; then each NEG fault
// of `lab break --list` fails the claim of its hop and `lab repair` puts the lab back. One lab for
// the file. Own prefix and address block (giplng-, 10.247).
import { execInNamespace } from "../../lab/netns";
import { labBreak, labRepair } from "../../lab/faults";
import { labDown } from "../../lab/down";
import { lbStatus } from "../../lab/lb-control";
import { negLayout } from "../../lab/neg";
import { labPaths, readState } from "../../lab/state";
import { labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { labVerify, type VerifyOutcome } from "../../lab/verify";
import type { ClaimId } from "../../verifier/model";
import { describeWithNamespaces } from "../support/namespaces";
import { TEST_HEALTH_CHECK_MS } from "../support/lab-lifecycle";

const t = labTopology({ prefix: "giplng-", net: "10.247", healthCheckIntervalMs: TEST_HEALTH_CHECK_MS });
jest.setTimeout(120_000);

const verdicts = (o: VerifyOutcome) => Object.fromEntries(o.results.map((r) => [r.id, r.verdict]));
const summary = (o: VerifyOutcome, id: ClaimId) => o.results.find((r) => r.id === id)!.summary;
const causes = (o: VerifyOutcome) => o.diagnosis.map((d) => [d.hop, d.subject, d.cause]);
const failing = (o: VerifyOutcome) => o.results.filter((r) => r.verdict === "fail").map((r) => r.id).sort();

describeWithNamespaces("lab up --backend neg: the container-native path (giplng-, 10.247)", () => {
  beforeAll(async () => {
    await labDown(t);
    await labUp(t, { backend: "neg" });
  });
  afterAll(async () => {
    expect((await labDown(t)).leftovers).toEqual([]);
  });

  test("the LB's backends are the pods' endpoints p-ip:p-port; the lb namespace routes each pod range via its node", async () => {
    const status = await lbStatus(labPaths(t).lbControlSocket);
    expect(status.backends.map((b) => `${b.ip}:${b.port}@${b.instance}/${b.zone} ${b.state}`)).toEqual([
      "10.247.65.2:8080@node-1/lab-zone-a HEALTHY",
      "10.247.67.2:8080@node-3/lab-zone-c HEALTHY",
    ]);
    const routes = (await execInNamespace(t.lb.namespace, ["ip", "-4", "route"])).stdout;
    for (const n of t.nodes) expect(routes).toContain(`${n.podCidr} via ${n.internalIp}`);
    expect(readState(t)?.backend).toBe("neg");
    // a second up with the same path changes nothing
    expect((await labUp(t, { backend: "neg" })).built).toBe(false);
  });

  test("verify: every claim holds, both pods answer, the nodes' nat counters stay still", async () => {
    const o = await labVerify(t, { requests: 40, width: 100 });
    expect(o.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id} ${r.verdict}: ${r.summary}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    expect(o.diagnosis).toEqual([]);
    for (const pod of t.pods) expect(o.model.requests!.results.filter((r) => r.podName === pod.name && r.status === 200).length).toBeGreaterThan(5);

    // The model the lab hands the verifier: one NEG per zone (node-2's empty), endpoints with node
    // and health, gates True by the LB's word, the firewall rule admitting p-port.
    const lb = o.model.loadBalancer!;
    const name = negLayout(t).negName;
    expect(lb.backendServices.map((b) => [b.name, b.backends.map((x) => `${x.kind} ${x.zone}`)])).toEqual([
      [name, ["networkEndpointGroup lab-zone-a", "networkEndpointGroup lab-zone-b", "networkEndpointGroup lab-zone-c"]],
    ]);
    expect(lb.networkEndpointGroups!.map((n) => (n.endpoints ?? []).map((e) => `${e.ipAddress}:${e.port}@${e.instance} ${e.healths?.[0]?.state}`))).toEqual([
      ["10.247.65.2:8080@node-1 HEALTHY"],
      [],
      ["10.247.67.2:8080@node-3 HEALTHY"],
    ]);
    expect(lb.healthCheckFirewalls[0].allowed).toEqual([{ protocol: "tcp", ports: ["30000-32767", "8080"] }]);
    const kube = o.model.kubernetes!;
    expect(kube.service!.annotations["cloud.google.com/neg"]).toBe('{"ingress": true}');
    expect(kube.pods.map((p) => p.conditions!.find((c) => c.type === "cloud.google.com/load-balancer-neg-ready"))).toEqual([
      expect.objectContaining({ status: "True", reason: "LoadBalancerNegReady" }),
      expect.objectContaining({ status: "True", reason: "LoadBalancerNegReady" }),
    ]);
    expect(kube.nodes.map((n) => n.zone)).toEqual(["lab-zone-a", "lab-zone-b", "lab-zone-c"]);

    // The article's contrast: the LB opened one connection per request to p-ip:p-port, the pod
    // answered each, and the node it crossed counted none at KUBE-NODEPORTS or KUBE-SEP.
    expect(o.negConnections).toHaveLength(2);
    for (const c of o.negConnections) {
      expect(c.natSkipped).toBe(true);
      expect(c.natNodePortConnections).toBe(0);
      expect(c.natDnatConnections).toBe(0);
      expect(c.podAnswers).toBe(c.lbProxyConnections);
    }
    expect(o.negConnections.reduce((s, c) => s + c.lbProxyConnections, 0)).toBe(40);
    expect(o.connections).toEqual([]);
    expect(JSON.parse(o.json).lab.negConnections).toEqual(o.negConnections);
    // the terminal wraps the line where the width says: match it word by word
    const words = (text: string) => new RegExp(text.split(" ").map((w) => w.replace(/[.()]/g, "\\$&").replace("<n>", "\\d+")).join("\\s+"));
    expect(o.terminal).toMatch(words("10.247.67.2:8080 (pod-2) via node-3: the LB opened <n>, the pod answered <n>; node-3's nat counted 0 at KUBE-NODEPORTS, 0 at KUBE-SEP DNAT: the nat box was skipped"));
  });

  describe("NEG faults: the claim of the broken hop fails, lab repair restores", () => {
    afterEach(async () => {
      await labRepair(t);
    });
    afterAll(async () => {
      // repaired: healthy again
      const o = await labVerify(t, { requests: 10 });
      expect(o.exitCode).toBe(0);
    });

    test("an instance-group fault is refused on a NEG lab, naming the path it needs", async () => {
      await expect(labBreak(t, "nat-flushed")).rejects.toThrow(/needs a lab built with --backend instance-group; this lab is neg/);
    });

    test("endpoint-stale: the NEG keeps pod-2's old p-ip, lacks its new one, its gate waits (C10, C11)", async () => {
      expect((await labBreak(t, "endpoint-stale")).shown).toBe(true);
      const o = await labVerify(t, { requests: 10 });
      expect(o.exitCode).toBe(1);
      expect(failing(o)).toEqual(["C10", "C11"]);
      expect(summary(o, "C10")).toMatch(/10\.247\.66\.11:8080 \(pod-2\) is missing/);
      expect(summary(o, "C10")).toMatch(/10\.247\.67\.2:8080, which is no pod of the Service \(stale\)/);
      expect(summary(o, "C11")).toMatch(/pod pod-2's readiness gate cloud\.google\.com\/load-balancer-neg-ready is False \(LoadBalancerNegNotReady\)/);
      const pod2 = o.model.kubernetes!.pods.find((p) => p.name === "pod-2")!;
      expect([pod2.ip, pod2.nodeName, pod2.ready]).toEqual(["10.247.66.11", "node-2", false]);
      const neg = negLayout(t).negName;
      expect(causes(o)).toEqual([
        ["network-endpoint-group", neg, "neg-endpoints-missing"],
        ["network-endpoint-group", neg, "neg-endpoints-stale"],
        ["pod", "pod-2", "neg-readiness-gate-stuck"],
      ]);
      expect(o.model.requests!.results.every((r) => r.status === 200 && r.podName === "pod-1")).toBe(true);
    });

    test("neg-zone-detached: lab-zone-c has a ready pod but no NEG backend (C1, C10; C12: pod-2 gets nothing, not for want of requests)", async () => {
      expect((await labBreak(t, "neg-zone-detached")).shown).toBe(true);
      const o = await labVerify(t, { requests: 10 });
      expect(failing(o)).toEqual(["C1", "C10", "C12"]);
      expect(summary(o, "C12")).toMatch(/pod-2 never answered: backend service \S+ has no NEG in its zone lab-zone-c, so the LB never sends to its endpoint 10\.247\.67\.2:8080/);
      expect(summary(o, "C12")).not.toMatch(/--requests/);
      expect(summary(o, "C1")).toMatch(/zone lab-zone-c has ready pod\(s\) pod-2 but no NEG/);
      // the zone's missing NEG is also why C10 misses pod-2's endpoint: one cause, nothing unexplained
      expect(causes(o)).toEqual([["backend-service", negLayout(t).negName, "neg-zone-without-backend"]]);
      expect(o.diagnosis[0]!.claims).toEqual(["C1", "C10", "C12"]);
      // the lab runs no NEG controller: no svcneg line pointing at a problems section that is empty
      expect(o.diagnosis[0]!.evidence.some((e) => e.source.startsWith("kubernetes svcneg"))).toBe(false);
      expect(o.diagnosis[0]!.summary).toMatch(/their endpoint 10\.247\.67\.2:8080 is in none of its NEGs/);
      expect(o.model.requests!.results.every((r) => r.podName === "pod-1")).toBe(true);
    });

    test("neg-forward-drop: node-3's FORWARD policy DROP leaves pod-2's endpoint UNHEALTHY (C11), read on node-3", async () => {
      expect((await labBreak(t, "neg-forward-drop")).shown).toBe(true);
      const o = await labVerify(t, { requests: 10 });
      expect(verdicts(o).C11).toBe("fail");
      expect(summary(o, "C11")).toMatch(/endpoint 10\.247\.67\.2:8080 .* is UNHEALTHY/);
      expect(summary(o, "C11")).not.toMatch(/10\.247\.65\.2:8080 .* is UNHEALTHY/);
      expect(o.model.nodes.find((n) => n.name === "node-3")!.forwarding!.filter!.text).toMatch(/^:FORWARD DROP/m);
      expect(o.model.nodes.find((n) => n.name === "node-1")!.forwarding!.filter!.text).toMatch(/^:FORWARD ACCEPT/m);
      // named where it is: node-3 forwards the LB's unDNATed, unmarked connections to pod-2 and drops them
      expect(causes(o)).toEqual([["node-forwarding", "node-3", "forward-policy-drop"]]);
      const d = o.diagnosis[0]!;
      expect(d.claims).toContain("C11");
      expect(d.evidence[0]!.detail).toMatch(/^:FORWARD DROP; no rule accepts a new, unmarked connection to 10\.247\.67\.2/);
      expect(d.summary).toMatch(/10\.247\.67\.2:8080 \(pod-2\).*no DNAT.*health checks to that pod time out/);
    });

    test("firewall-no-pod-port: the rule admits the node-port range only, so nothing reaches p-port (C11, C12)", async () => {
      expect((await labBreak(t, "firewall-no-pod-port")).shown).toBe(true);
      const o = await labVerify(t, { requests: 10 });
      expect(failing(o)).toEqual(["C11", "C12"]);
      expect(summary(o, "C11")).toMatch(/does not admit 130\.211\.0\.0\/22 to the pods on node-1 on p-port 8080/);
      expect(o.model.loadBalancer!.healthCheckFirewalls[0].allowed).toEqual([{ protocol: "tcp", ports: ["30000-32767"] }]);
      expect(o.model.requests!.results.every((r) => r.status === 503)).toBe(true);
      expect(causes(o)).toEqual([["firewall", "node-1, node-3", "neg-firewall-pod-port"]]);
    });

    test("health-check-404 on the NEG path: every endpoint UNHEALTHY, the restarted pods' gates wait, the 404 is named (C11)", async () => {
      expect((await labBreak(t, "health-check-404")).shown).toBe(true);
      const o = await labVerify(t, { requests: 10 });
      expect(verdicts(o).C11).toBe("fail");
      expect(summary(o, "C11")).toMatch(/endpoint 10\.247\.65\.2:8080 .* is UNHEALTHY; endpoint 10\.247\.67\.2:8080 .* is UNHEALTHY/);
      expect(summary(o, "C11")).toMatch(/pod pod-1's readiness gate .* is False/);
      // the root cause at each pod, its waiting gate folded into it (evidence and claims)
      expect(causes(o)).toEqual([
        ["pod", "pod-1", "health-check-path-not-200"],
        ["pod", "pod-2", "health-check-path-not-200"],
      ]);
      for (const d of o.diagnosis) {
        expect(d.summary).toMatch(/answers HTTP 404 on the health check's path \/ .*readiness gate cloud\.google\.com\/load-balancer-neg-ready stays False/);
        expect(d.evidence.some((e) => e.detail.includes("spec.readinessGates"))).toBe(true);
      }
    });
  });
}, ["sshd", "ssh-keygen", "curl"]);
