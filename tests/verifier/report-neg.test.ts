// The report on the container-native path (NEG) says what is true there (docs/neg.md): the LB sends
// to the pods' p-ip:p-port, so the nodes' nat box is its own "not on path" line, a pod-less node
// forwards nothing of the LB's, the LB's own connections go to the NEG endpoints, each endpoint
// has its own verdict, the NEG that is one name in several zones is named once, and C12 says which
// pods it counts (the Ready ones) and what it cannot tell about the others. The model is what the
// live sources read from the REST stand-ins (a healthy NEG path), then changed as a run would show.
import { buildWorld, withNegBackend } from "../support/rest-standins/world";
import { verifyWorld } from "../support/rest-standins/verify-world";
import { runChecks } from "../../verifier/checks";
import { FRONT_END_CONNECTIONS, FRONT_END_CONNECTIONS_NEG } from "../../verifier/checks/connections";
import { NEG_READINESS_GATE } from "../../verifier/neg";
import type { PathModel } from "../../verifier/model";
import { pathNotes } from "../../verifier/report/common";
import { renderJson } from "../../verifier/report/json";
import { renderMarkdown } from "../../verifier/report/markdown";
import { renderTerminal } from "../../verifier/report/terminal";
import { gkeModel } from "./fixtures/gke-model";

let healthy: PathModel;
beforeAll(async () => {
  healthy = (await verifyWorld(withNegBackend(buildWorld()))).model as unknown as PathModel;
});
const copy = (): PathModel => structuredClone(healthy);
const text = (m: PathModel) => renderTerminal(m, runChecks(m), { width: 100 });
const lines = (m: PathModel) => text(m).split("\n");

test("the NEG note names a NEG that has one name in three zones once, with its zones", () => {
  const m = copy();
  const bs = m.loadBalancer!.backendServices[0]!;
  const neg = bs.backends[0]!;
  bs.backends.push({ ...neg, zone: "us-central1-b" }, { ...neg, zone: "us-central1-c" });
  const [note] = pathNotes(m);
  const name = neg.group.slice(neg.group.lastIndexOf("/") + 1);
  expect(note!.split(name).length - 1).toBe(1);
  expect(note).toContain(`backends[].group=${name} (network endpoint group, in 3 zones: us-central1-a, us-central1-b, us-central1-c)`);
});

test("the nodes' nat box is a line of its own in the verdict column, not a continuation of the last endpoint", () => {
  const all = lines(copy());
  const at = all.findIndex((l) => l.includes("the nodes' nat box"));
  expect(all[at]).toMatch(/^ {2}not on path {2}the nodes' nat box: skipped on the NEG path/);
  expect(all[at - 1]).toMatch(/^ {17}\S/); // the endpoint above ends with its own continuation
});

test("a node with no pod is not said to forward on the NEG path; the node an endpoint is routed through is", () => {
  const m = copy();
  const podless = m.kubernetes!.nodes.map((n) => n.name).find((n) => !m.kubernetes!.pods.some((p) => p.nodeName === n))!;
  const t = text(m).replace(/\n {17}/g, " ");
  expect(t).not.toContain("still forwards");
  expect(t).toContain(`${podless}  n-ip:n-port 10.128.0.12:30080, runs no pod: the LB sends nothing through it on this path`);
  // a stale endpoint routed through the pod-less node: its p-ip crosses that node
  const eps = m.loadBalancer!.networkEndpointGroups![0]!.endpoints!;
  eps.push({ ...eps[0]!, ipAddress: "10.4.1.9", instance: podless });
  expect(text(m).replace(/\n {17}/g, " ")).toContain(`${podless}  n-ip:n-port 10.128.0.12:30080, runs no pod; the LB's connections to 10.4.1.9:8080 are routed through it`);
});

test("each endpoint hop has its own verdict: HEALTHY passes while another endpoint is UNHEALTHY", () => {
  const m = copy();
  const [a, b] = m.loadBalancer!.networkEndpointGroups![0]!.endpoints!;
  for (const bs of m.loadBalancer!.backendServices) for (const h of bs.health) if (h.ipAddress === b!.ipAddress) h.state = "UNHEALTHY";
  for (const h of b!.healths ?? []) h.state = "UNHEALTHY";
  const results = runChecks(m);
  expect(results.find((r) => r.id === "C11")!.verdict).toBe("fail");
  const path = JSON.parse(renderJson(m, results)).path as { hop: string; address: string; verdict: string }[];
  const verdict = (ip: string) => path.find((h) => h.hop === "endpoint" && h.address === ip)!.verdict;
  expect([verdict(a!.ipAddress), verdict(b!.ipAddress)]).toEqual(["pass", "fail"]);
});

describe("C12 counts the Ready pods and says what it cannot tell about the others", () => {
  const withRequests = (m: PathModel, answeredBy: string) => {
    m.requests = { url: "http://34.117.80.15/", keepAlive: false, results: Array.from({ length: 20 }, () => ({ status: 200, podName: answeredBy })) };
    return m;
  };

  test("a pod whose NEG readiness gate is False is named, with why, as not counted; the verdict stands on the Ready ones", () => {
    const m = copy();
    const [ready, waiting] = m.kubernetes!.pods;
    waiting!.ready = false;
    waiting!.conditions = [{ type: "Ready", status: "False" }, { type: NEG_READINESS_GATE, status: "False", reason: "LoadBalancerNegNotReady" }];
    const c12 = runChecks(withRequests(m, ready!.name)).find((r) => r.id === "C12")!;
    expect(c12.verdict).toBe("pass");
    expect(c12.summary).toContain(`answered by every Ready pod (1 of 2): ${ready!.name} (20)`);
    expect(c12.summary).toContain(`Not counted: ${waiting!.name} (its readiness gate ${NEG_READINESS_GATE} is False, LoadBalancerNegNotReady), not Ready`);
    expect(c12.summary).toContain("cannot be told");
    expect(c12.evidence.map((e) => e.detail)).toContain(`${waiting!.ip}: not Ready (its readiness gate ${NEG_READINESS_GATE} is False, LoadBalancerNegNotReady): not counted; answered 0 of 20`);
  });

  test("all pods Ready: the summary is the plain one", () => {
    const m = copy();
    const [a] = m.kubernetes!.pods;
    const c12 = runChecks(withRequests(m, a!.name)).find((r) => r.id === "C12")!;
    expect(c12.summary).not.toMatch(/Not counted|every Ready pod/);
  });

  test("no pod Ready at all: cannot tell, naming them and why", () => {
    const m = copy();
    for (const p of m.kubernetes!.pods) Object.assign(p, { ready: false, conditions: [{ type: NEG_READINESS_GATE, status: "False", reason: "LoadBalancerNegNotReady" }] });
    const c12 = runChecks(withRequests(m, "someone")).find((r) => r.id === "C12")!;
    expect(c12.verdict).toBe("cannot-tell");
    expect(c12.summary).toMatch(/no pod of the Service is Ready/);
  });
});

test("the LB's own connections: to the nodes on the article's path, to the NEG endpoints on the NEG path (terminal, Markdown, JSON)", () => {
  const article = gkeModel({ counters: true });
  const neg = gkeModel({ counters: true });
  neg.kubernetes!.service!.annotations["cloud.google.com/neg"] = '{"ingress": true}';
  const one = (s: string) => s.replace(/\s+/g, " ");
  for (const [m, says, not] of [[article, FRONT_END_CONNECTIONS, FRONT_END_CONNECTIONS_NEG], [neg, FRONT_END_CONNECTIONS_NEG, FRONT_END_CONNECTIONS]] as const) {
    const results = runChecks(m);
    for (const report of [one(renderTerminal(m, results, { width: 100 })), one(renderMarkdown(m, results))]) {
      expect(report).toContain(says);
      expect(report).not.toContain(not);
    }
    expect(JSON.parse(renderJson(m, results)).connections.explanation).toContain(says);
  }
});

// A zone with a Ready pod whose NEG is not a backend of the backend service (the lab's
// neg-zone-detached): pods on node-1 (zone a) and node-3 (zone c), the backend service keeps a and b.
describe("a zone with a pod and no NEG backend", () => {
  const ZONES = ["us-central1-a", "us-central1-b", "us-central1-c"];
  let threeZones: PathModel;
  beforeAll(async () => {
    threeZones = (await verifyWorld(withNegBackend(buildWorld({ zones: ZONES })), "us-central1")).model as unknown as PathModel;
  });
  const detached = (): PathModel => {
    const m = structuredClone(threeZones);
    const bs = m.loadBalancer!.backendServices.find((b) => b.backends.some((x) => x.kind === "networkEndpointGroup"))!;
    bs.backends = bs.backends.filter((b) => b.zone !== "us-central1-c");
    bs.health = bs.health.filter((h) => h.zone !== "us-central1-c");
    const [first] = m.kubernetes!.pods;
    m.requests = { url: "http://34.117.80.15/", keepAlive: false, results: Array.from({ length: 100 }, () => ({ status: 200, podName: first!.name })) };
    return m;
  };
  const cut = () => {
    const m = detached();
    return { m, silent: m.kubernetes!.pods.find((p) => p.nodeName === m.kubernetes!.nodes[2]!.name)!, bs: m.loadBalancer!.backendServices.find((b) => b.backends.some((x) => x.kind === "networkEndpointGroup"))! };
  };

  test("C12 fails naming why the pod gets nothing, not 'retry with more --requests'; the zone's cause explains it", () => {
    const { m, silent, bs } = cut();
    const results = runChecks(m);
    const c12 = results.find((r) => r.id === "C12")!;
    expect(c12.verdict).toBe("fail");
    expect(c12.summary).not.toMatch(/--requests|reuses its connections/);
    expect(c12.summary).toContain(`${silent.name} never answered: backend service ${bs.name} has no NEG in its zone us-central1-c, so the LB never sends to its endpoint ${silent.ip}:8080`);
    const json = JSON.parse(renderJson(m, results)) as { diagnosis: { cause: string; claims?: string[] }[] };
    expect(json.diagnosis.map((d) => d.cause)).toEqual(["neg-zone-without-backend"]);
    expect(json.diagnosis[0]!.claims).toContain("C12");
  });

  test("svcneg not read: the diagnosis points at the problems only when a problem says so; the lab (no NEG controller) says nothing", () => {
    const svcnegLines = (m: PathModel) => (JSON.parse(renderJson(m, runChecks(m))) as { diagnosis: { evidence: { source: string; detail: string }[] }[] }).diagnosis.flatMap((d) => d.evidence).filter((e) => e.source.startsWith("kubernetes svcneg"));
    const { m } = cut();
    delete m.kubernetes!.svcNegs;
    m.problems = [];
    // nothing recorded: no pointer at a problems section that does not exist
    expect(svcnegLines(m).map((e) => e.detail).join("\n")).not.toContain("see the problems");
    expect(svcnegLines(m)[0]!.detail).toMatch(/^not in what was read .*kubectl get svcneg/);
    expect(renderTerminal(m, runChecks(m), { width: 100 })).not.toContain("see the problems");
    // a failed read is a problem, shown in the report the line points to
    const message = "svcneg default (servicenetworkendpointgroups.networking.gke.io): forbidden (403)";
    m.problems.push({ source: "kubernetes", subject: "default (servicenetworkendpointgroups.networking.gke.io)", message });
    expect(svcnegLines(m)[0]!.detail).toContain("could not be read (see the problems)");
    expect(renderTerminal(m, runChecks(m), { width: 200 })).toContain(message);
    // the lab has no svcneg objects at all
    m.problems = [];
    m.target.kind = "lab";
    expect(svcnegLines(m)).toEqual([]);
  });
});

describe("the path when a zone with a pod has no NEG backend", () => {
  type Hop = { hop: string; name: string; zone?: string; address?: string; verdict: string; detail?: string };
  let m: PathModel;
  let path: Hop[];
  beforeAll(async () => {
    m = (await verifyWorld(withNegBackend(buildWorld({ zones: ["us-central1-a", "us-central1-b", "us-central1-c"] })), "us-central1")).model as unknown as PathModel;
    const bs = m.loadBalancer!.backendServices.find((b) => b.backends.some((x) => x.kind === "networkEndpointGroup"))!;
    bs.backends = bs.backends.filter((b) => b.zone !== "us-central1-c");
    bs.health = bs.health.filter((h) => h.zone !== "us-central1-c");
    const [first] = m.kubernetes!.pods;
    m.requests = { url: "http://34.117.80.15/", keepAlive: false, results: Array.from({ length: 100 }, () => ({ status: 200, podName: first!.name })) };
    path = JSON.parse(renderJson(m, runChecks(m))).path as Hop[];
  });
  const verdicts = (id: string) => path.filter((h) => h.hop === id).map((h) => `${h.zone ?? h.name}=${h.verdict}`);

  test("only the backend service, the missing zone and its pod are flagged; the hops before it and the healthy NEGs pass", () => {
    expect(["client", "target-proxy", "url-map", "backend-service"].map((id) => `${id}=${path.find((h) => h.hop === id)!.verdict}`)).toEqual(["client=pass", "target-proxy=pass", "url-map=pass", "backend-service=fail"]);
    expect(verdicts("network-endpoint-group")).toEqual(["us-central1-a=pass", "us-central1-b=pass", "us-central1-c=fail"]);
    const [kept, lost] = m.kubernetes!.pods;
    expect(verdicts("pod")).toEqual([`${kept!.name}=pass`, `${lost!.name}=fail`]);
  });

  test("the client row is what the client saw: a request without HTTP 200 fails it, even where the cause sits further along", () => {
    const bad = structuredClone(m);
    bad.requests!.results[0] = { status: 503 };
    const client = (JSON.parse(renderJson(bad, runChecks(bad))).path as Hop[]).find((h) => h.hop === "client")!;
    expect(client).toMatchObject({ verdict: "fail", detail: "100 requests, 99 got HTTP 200" });
  });

  test("the missing zone's NEG and its pod's endpoint have rows saying why the pod gets nothing", () => {
    const lost = m.kubernetes!.pods[1]!;
    const zoneC = path.find((h) => h.hop === "network-endpoint-group" && h.zone === "us-central1-c")!;
    expect(zoneC.detail).toMatch(new RegExp(`^in us-central1-c \\(the Service's neg-status lists it\\), not a backend of backend service \\S+: ${lost.name} in us-central1-c gets no request$`));
    const ep = path.find((h) => h.hop === "endpoint" && h.address === lost.ip)!;
    expect(ep).toMatchObject({ name: lost.name, verdict: "fail" });
    expect(ep.detail).toMatch(/^in no NEG: backend service \S+ has no NEG in the zone us-central1-c, so the LB never sends to it$/);
    const t = renderTerminal(m, runChecks(m), { width: 400 });
    expect(t).toMatch(new RegExp(`FAIL +endpoint ${lost.name} +p-ip:p-port ${lost.ip!.replace(/\./g, "\\.")}:8080, in no NEG`));
  });
});

test("a pod whose gate waits and whose endpoint no NEG holds (endpoint-stale): its endpoint row says so; only its NEG and the pod are flagged", () => {
  const m = copy();
  const [, moved] = m.kubernetes!.pods;
  moved!.ready = false;
  moved!.conditions = [{ type: "ContainersReady", status: "True" }, { type: "Ready", status: "False" }, { type: NEG_READINESS_GATE, status: "False", reason: "LoadBalancerNegNotReady" }];
  moved!.readinessGates = [NEG_READINESS_GATE];
  for (const e of m.kubernetes!.endpoints) if (e.ip === moved!.ip) e.ready = false;
  const neg = m.loadBalancer!.networkEndpointGroups![0]!;
  neg.endpoints = neg.endpoints!.filter((e) => e.ipAddress !== moved!.ip);
  const results = runChecks(m);
  const path = JSON.parse(renderJson(m, results)).path as { hop: string; name: string; address?: string; verdict: string; detail?: string }[];
  const ep = path.find((h) => h.hop === "endpoint" && h.address === moved!.ip)!;
  expect(ep).toMatchObject({ name: moved!.name, verdict: "fail" });
  expect(ep.detail).toMatch(/^in no NEG: it is in no NEG of backend service \S+, so the LB never sends to it$/);
  expect(["target-proxy", "url-map", "backend-service"].map((id) => path.find((h) => h.hop === id)!.verdict)).toEqual(["pass", "pass", "pass"]);
  expect(path.filter((h) => h.hop === "network-endpoint-group").map((h) => h.verdict)).toEqual(["fail"]);
});
