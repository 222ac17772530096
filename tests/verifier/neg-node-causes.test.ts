// Causes on the container-native path (NEG) that the node side and the pods' answers show: the
// pod's node dropping the LB's unDNATed connections in filter FORWARD, and pods answering 404 on
// the health check's path (their readiness gates waiting is the symptom, folded into that cause).
// The model is the one the live sources read from the REST stand-ins (a healthy NEG path), then
// given what the node commands and the LB's health checker would show.
import { buildWorld, withNegBackend } from "../support/rest-standins/world";
import { verifyWorld } from "../support/rest-standins/verify-world";
import { runChecks } from "../../verifier/checks";
import { diagnose } from "../../verifier/checks/diagnosis";
import type { NodeModel, PathModel } from "../../verifier/model";

const GATE = "cloud.google.com/load-balancer-neg-ready";
let healthy: PathModel;

beforeAll(async () => {
  healthy = (await verifyWorld(withNegBackend(buildWorld()))).model as unknown as PathModel;
});

const copy = (): PathModel => structuredClone(healthy);
const causes = (m: PathModel) => {
  const d = diagnose(m, runChecks(m));
  return { d, ids: d.map((x) => `${x.hop} ${x.subject} ${x.cause} ${(x.claims ?? []).join(",")}`) };
};
/** The endpoint's health, as getHealth and listNetworkEndpoints report it. */
function setHealth(m: PathModel, ip: string, state: "UNHEALTHY", detail?: string): void {
  for (const b of m.loadBalancer!.backendServices) for (const h of b.health) if (h.ipAddress === ip) Object.assign(h, { state }, detail ? { detail } : {});
  for (const n of m.loadBalancer!.networkEndpointGroups ?? []) for (const e of n.endpoints ?? []) if (e.ipAddress === ip) for (const h of e.healths ?? []) h.state = state;
}
const FILTER_OK = [
  "*filter",
  ":INPUT ACCEPT [0:0]",
  ":FORWARD ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":KUBE-FORWARD - [0:0]",
  '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  "COMMIT",
].join("\n");
function node(name: string, filter: string, probes: NodeModel["probes"] = []): NodeModel {
  return { name, transport: "snapshot", reachable: true, forwarding: { ipForward: true, filter: { command: "iptables-save", backend: "legacy", text: filter } }, probes };
}
const endpointsOf = (m: PathModel) => (m.loadBalancer!.networkEndpointGroups ?? []).flatMap((n) => n.endpoints ?? []);

test("the model read from the stand-ins is a healthy NEG path with two endpoints on two nodes", () => {
  const m = copy();
  expect(causes(m).ids).toEqual([]);
  const eps = endpointsOf(m);
  expect(eps.map((e) => e.ipAddress).sort()).toEqual(["10.4.0.5", "10.4.2.7"]);
  expect(new Set(eps.map((e) => e.instance)).size).toBe(2);
});

describe("forward-policy-drop on a NEG path: the pod's node drops the LB's connections to p-ip:p-port", () => {
  const setup = (policy: "ACCEPT" | "DROP") => {
    const m = copy();
    const [a, b] = endpointsOf(m);
    m.nodes = [node(a!.instance!, FILTER_OK), node(b!.instance!, FILTER_OK.replace(":FORWARD ACCEPT", `:FORWARD ${policy}`))];
    setHealth(m, b!.ipAddress, "UNHEALTHY");
    return { m, bad: b! };
  };

  test("named at node-forwarding on that node, with :FORWARD DROP and the endpoint UNHEALTHY as evidence (C11)", () => {
    const { m, bad } = setup("DROP");
    const { d, ids } = causes(m);
    expect(ids).toEqual([`node-forwarding ${bad.instance} forward-policy-drop C11`]);
    expect(d[0]!.summary).toContain(`${bad.ipAddress}:8080`);
    expect(d[0]!.summary).toMatch(/no DNAT/);
    expect(d[0]!.summary).toMatch(/health checks .* time out/);
    expect(d[0]!.evidence[0]!.detail).toMatch(/^:FORWARD DROP; no rule accepts a new, unmarked connection/);
    expect(d[0]!.evidence.map((e) => e.detail)).toContain(`${bad.ipAddress}:8080: UNHEALTHY`);
  });

  test("a node whose filter accepts (policy ACCEPT) is no cause: the UNHEALTHY endpoint stays unexplained", () => {
    const { m } = setup("ACCEPT");
    expect(causes(m).ids.map((x) => x.split(" ")[2])).not.toContain("forward-policy-drop");
  });

  test("a rule accepting forwarded traffic to the pod range keeps the policy DROP harmless", () => {
    const { m, bad } = setup("DROP");
    const n = m.nodes.find((x) => x.name === bad.instance)!;
    n.forwarding!.filter!.text = n.forwarding!.filter!.text.replace("COMMIT", "-A FORWARD -d 10.4.0.0/14 -j ACCEPT\nCOMMIT");
    expect(causes(m).ids.map((x) => x.split(" ")[2])).not.toContain("forward-policy-drop");
  });

  test("ip_forward 0 on the pod's node: ip-forward-disabled says the LB's unDNATed connections to its pods are not forwarded", () => {
    const { m, bad } = setup("ACCEPT");
    m.nodes.find((x) => x.name === bad.instance)!.forwarding!.ipForward = false;
    const { d, ids } = causes(m);
    expect(ids).toEqual([`node-forwarding ${bad.instance} ip-forward-disabled C11`]);
    expect(d[0]!.summary).toContain(`NEG endpoint ${bad.ipAddress}:8080 through ${bad.instance}, but its net.ipv4.ip_forward is 0`);
  });

  test("on a NEG path the health quoted is the endpoint's (p-ip:p-port, from the NEG hop), never the node's", () => {
    const { m, bad } = setup("ACCEPT");
    m.nodes.find((x) => x.name === bad.instance)!.forwarding!.ipForward = false;
    const { d } = causes(m);
    const details = d[0]!.evidence.map((e) => e.detail);
    expect(details).toContain(`${bad.ipAddress}:8080: UNHEALTHY`);
    expect(details.filter((x) => x.startsWith(`${bad.instance} `))).toEqual([]);
  });

  test("an UNHEALTHY endpoint no cause explains: unexplained, not blamed on its node's nat path (not on the NEG path)", () => {
    const { m } = setup("ACCEPT");
    const { d } = causes(m);
    const c11 = d.find((x) => x.claims?.includes("C11"))!;
    expect(c11.cause).toBe("unexplained");
    expect(c11.summary).not.toMatch(/KUBE-NODEPORTS|nat PREROUTING/);
    expect(c11.fix).not.toMatch(/conntrack -L -p tcp --dport/);
  });

  test("a DROP rule (not the policy) is forward-rule-drop, quoting its line", () => {
    const { m, bad } = setup("ACCEPT");
    const n = m.nodes.find((x) => x.name === bad.instance)!;
    n.forwarding!.filter!.text = n.forwarding!.filter!.text.replace("COMMIT", `-A FORWARD -d ${bad.ipAddress}/32 -j DROP\nCOMMIT`);
    const { d, ids } = causes(m);
    expect(ids).toEqual([`node-forwarding ${bad.instance} forward-rule-drop C11`]);
    expect(d[0]!.evidence[0]!.detail).toBe(`line 10: -A FORWARD -d ${bad.ipAddress}/32 -j DROP`);
  });
});

describe("health-check-path-not-200 on a NEG path: the pods answer 404, their gates wait", () => {
  const setup = () => {
    const m = copy();
    for (const e of endpointsOf(m)) setHealth(m, e.ipAddress, "UNHEALTHY");
    for (const p of m.kubernetes!.pods.filter((p) => (p.readinessGates ?? []).includes(GATE))) {
      const c = p.conditions!.find((x) => x.type === GATE)!;
      Object.assign(c, { status: "False", reason: "LoadBalancerNegNotReady" });
      p.ready = false;
    }
    for (const s of m.kubernetes!.endpoints) s.ready = false;
    return m;
  };
  const pods = (m: PathModel) => m.kubernetes!.pods.filter((p) => (p.readinessGates ?? []).includes(GATE)).map((p) => p.name).sort();

  test("before: with neither probes nor the LB's detail, the gates stuck are what is named", () => {
    const m = setup();
    expect(causes(m).ids).toEqual(pods(m).map((p) => `pod ${p} neg-readiness-gate-stuck C11`));
  });

  test("from the nodes' probes to p-ip:p-port: health-check-path-not-200 at each pod, the gate folded into it", () => {
    const m = setup();
    const eps = endpointsOf(m);
    m.nodes = eps.map((e) => node(e.instance!, FILTER_OK, [{ target: "pod", address: e.ipAddress, port: 8080, path: "/", command: `curl http://${e.ipAddress}:8080/`, outcome: { kind: "http", status: 404 } }]));
    const { d, ids } = causes(m);
    expect(ids).toEqual(pods(m).map((p) => `pod ${p} health-check-path-not-200 C11`));
    expect(d[0]!.summary).toMatch(/answers HTTP 404 on the health check's path \/ at p-ip:p-port .*probe that endpoint directly.* readiness gate cloud\.google\.com\/load-balancer-neg-ready stays False/);
    expect(d[0]!.evidence.some((e) => e.detail.includes("spec.readinessGates"))).toBe(true);
  });

  test("from the LB's health detail alone (HTTP 404, as the lab's checker says)", () => {
    const m = setup();
    for (const e of endpointsOf(m)) setHealth(m, e.ipAddress, "UNHEALTHY", "HTTP 404");
    const { d, ids } = causes(m);
    expect(ids).toEqual(pods(m).map((p) => `pod ${p} health-check-path-not-200 C11`));
    expect(d[0]!.evidence.some((e) => /UNHEALTHY \(HTTP 404\)/.test(e.detail))).toBe(true);
  });

  test("a pod answering 200 is no cause: its gate stuck stays named", () => {
    const m = setup();
    for (const e of endpointsOf(m)) setHealth(m, e.ipAddress, "UNHEALTHY", "HTTP 200");
    expect(causes(m).ids).toEqual(pods(m).map((p) => `pod ${p} neg-readiness-gate-stuck C11`));
  });
});
