// The container-native path (NEG) judged hop by hop through the live sources against the REST
// stand-ins: the Compute API (NEGs, listNetworkEndpoints, getHealth) and the Kubernetes API
// (neg-status, readiness gates, svcneg) as GKE serves them. No SSH, no requests: the node claims
// and C12 are cannot-tell here; the NEG claims C1, C10, C11 are judged from what was read.
import { buildWorld, ingressEvent, withNegBackend, type GkeWorld } from "../support/rest-standins/world";
import { verifyWorld, type WorldReport } from "../support/rest-standins/verify-world";
import { renderMermaid } from "../../verifier/report/mermaid";
import type { CheckResult, PathModel } from "../../verifier/model";

const verdict = (r: Awaited<ReturnType<typeof verifyWorld>>, id: string) => r.checks.find((c) => c.id === id)!;

test("a healthy NEG path: C1, C10, C11 pass from the NEGs, their endpoints, the firewall to the pods and the gates", async () => {
  const r = await verifyWorld(withNegBackend(buildWorld()));
  for (const id of ["C1", "C9", "C10", "C11"]) expect({ id, verdict: verdict(r, id).verdict, summary: verdict(r, id).summary }).toEqual({ id, verdict: "pass", summary: expect.any(String) });
  expect(verdict(r, "C10").summary).toContain("10.4.0.5:8080");
  expect(verdict(r, "C11").summary).toContain("p-port 8080");
  // the nat claims: judged as usual (here cannot tell: no SSH), said apart from the path
  for (const id of ["C2", "C3", "C4", "C5", "C6", "C7"]) expect(verdict(r, id).summary).toMatch(/^Fact of the cluster, not a hop of the NEG path: /);
  expect(r.computePaths).toContain("POST /compute/v1/projects/ingress-path-demo/zones/us-central1-a/networkEndpointGroups/k8s1-5d2c8f3a-default-hello-80-9f2c1d7e/listNetworkEndpoints");
});

// ---------------------------------------------------------------- broken NEG paths, one cause each

const NEG = "k8s1-5d2c8f3a-default-hello-80-9f2c1d7e";
const GATE = "cloud.google.com/load-balancer-neg-ready";
const negLink = (w: GkeWorld, zone = w.zone) => `https://www.googleapis.com/compute/v1/projects/${w.project}/zones/${zone}/networkEndpointGroups/${NEG}`;
const causes = (r: WorldReport) => r.diagnosis.map((d) => `${d.hop} ${d.subject} ${d.cause}`);
/** Marks the endpoints of the given pod IPs unhealthy, in getHealth and in listNetworkEndpoints alike. */
function unhealthy(w: GkeWorld, ips: string[]): void {
  for (const groups of Object.values(w.compute.health)) for (const list of Object.values(groups)) for (const h of list) if (h.ipAddress && ips.includes(h.ipAddress)) h.healthState = "UNHEALTHY";
  for (const list of Object.values(w.compute.networkEndpoints ?? {})) for (const e of list) if (ips.includes(e.networkEndpoint!.ipAddress!)) e.healths![0]!.healthState = "UNHEALTHY";
}
function gate(w: GkeWorld, pod: number, status: "True" | "False", reason: string, message?: string): void {
  const p = w.kube.pods.filter((x) => x.metadata?.labels?.app === "hello")[pod]!;
  const c = p.status!.conditions!.find((x) => x.type === GATE)!;
  Object.assign(c, { status, reason, ...(message ? { message } : {}) });
  if (status === "False") p.status!.conditions!.find((x) => x.type === "Ready")!.status = "False";
}

test("an endpoint missing from the NEG (the controller behind): neg-endpoints-missing, quoting the svcneg condition and the Service's event", async () => {
  const w = withNegBackend(buildWorld());
  w.compute.networkEndpoints![negLink(w)] = w.compute.networkEndpoints![negLink(w)]!.filter((e) => e.networkEndpoint!.ipAddress !== "10.4.2.7");
  w.compute.health[NEG]![negLink(w)] = w.compute.health[NEG]![negLink(w)]!.filter((h) => h.ipAddress !== "10.4.2.7");
  const synced = w.kube.svcNegs![0]!.status!.conditions![1]!;
  Object.assign(synced, { status: "False", reason: "NegSyncFailed", message: "failed to attach 1 network endpoint(s): googleapi: Error 403: QUOTA_EXCEEDED" });
  w.kube.events!.push(ingressEvent("default", "hello", "Warning", "SyncNetworkEndpointGroupFailed", "Failed to sync NEG \"k8s1-5d2c8f3a-default-hello-80-9f2c1d7e\": googleapi: Error 403: QUOTA_EXCEEDED", "2026-11-30T09:20:00Z", "Service"));
  const r = await verifyWorld(w);
  expect(verdict(r, "C10").verdict).toBe("fail");
  expect(verdict(r, "C10").summary).toContain("10.4.2.7:8080 (hello-6d5f7c8b9-zr4kp) is missing");
  const d = r.diagnosis.find((x) => x.cause === "neg-endpoints-missing")!;
  expect(`${d.hop} ${d.subject}`).toBe(`network-endpoint-group ${NEG}`);
  const evidence = d.evidence.map((e) => e.detail).join("\n");
  expect(evidence).toContain("Synced]: False, reason NegSyncFailed");
  expect(evidence).toContain("SyncNetworkEndpointGroupFailed");
  expect(d.claims).toContain("C10");
});

test("an endpoint of no pod left in the NEG: neg-endpoints-stale", async () => {
  const w = withNegBackend(buildWorld());
  w.compute.networkEndpoints![negLink(w)]!.push({ networkEndpoint: { ipAddress: "10.4.1.99", port: 8080, instance: w.nodeNames[1] }, healths: [] });
  const r = await verifyWorld(w);
  expect(verdict(r, "C10").summary).toContain("10.4.1.99:8080, which is no pod of the Service (stale)");
  expect(causes(r)).toContain(`network-endpoint-group ${NEG} neg-endpoints-stale`);
});

test("the firewall admits n-port but not p-port (ingress-gce#1461): neg-firewall-pod-port on the pods' nodes, endpoints UNHEALTHY, gates stuck", async () => {
  const w = withNegBackend(buildWorld());
  w.compute.firewalls.find((f) => f.name === w.names.firewall)!.allowed = [{ IPProtocol: "tcp", ports: ["30080", "31876"] }];
  unhealthy(w, ["10.4.0.5", "10.4.2.7"]);
  gate(w, 0, "False", "LoadBalancerNegNotReady");
  const r = await verifyWorld(w);
  expect(verdict(r, "C11").verdict).toBe("fail");
  const fw = r.diagnosis.find((d) => d.cause === "neg-firewall-pod-port")!;
  expect(fw.hop).toBe("firewall");
  expect(fw.subject).toBe(`${w.nodeNames[0]}, ${w.nodeNames[2]}`);
  expect(fw.fix).toContain("tcp:8080");
  expect(causes(r)).toContain("pod hello-6d5f7c8b9-q2w7x neg-readiness-gate-stuck");
  // along the path: the firewall before the pod
  expect(r.diagnosis.findIndex((d) => d.cause === "neg-firewall-pod-port")).toBeLessThan(r.diagnosis.findIndex((d) => d.cause === "neg-readiness-gate-stuck"));
});

test("a readiness gate True by timeout is not the LB's word: C11 fails, neg-readiness-gate-timeout", async () => {
  const w = withNegBackend(buildWorld());
  gate(w, 1, "True", "LoadBalancerNegTimeout", `Timeout waiting for pod to become healthy in at least one of the NEG(s): [${NEG}]. Marking condition "${GATE}" to True.`);
  const r = await verifyWorld(w);
  expect(verdict(r, "C11").summary).toContain("turned True by timeout (LoadBalancerNegTimeout)");
  expect(causes(r)).toEqual(["pod hello-6d5f7c8b9-zr4kp neg-readiness-gate-timeout"]);
});

test("the health check on a fixed port that is not p-port: neg-health-check-wrong-port", async () => {
  const w = withNegBackend(buildWorld());
  w.compute.healthChecks.find((h) => h.name === NEG)!.httpHealthCheck = { port: 80, portSpecification: "USE_FIXED_PORT", requestPath: "/" };
  unhealthy(w, ["10.4.0.5", "10.4.2.7"]);
  const r = await verifyWorld(w);
  expect(causes(r)).toContain(`health-check ${NEG} neg-health-check-wrong-port`);
});

test("the health check asking for a path the pods do not serve: neg-health-check-wrong-path", async () => {
  const w = withNegBackend(buildWorld());
  w.compute.healthChecks.find((h) => h.name === NEG)!.httpHealthCheck = { portSpecification: "USE_SERVING_PORT", requestPath: "/healthz" };
  unhealthy(w, ["10.4.0.5", "10.4.2.7"]);
  const r = await verifyWorld(w);
  const d = r.diagnosis.find((x) => x.cause === "neg-health-check-wrong-path")!;
  expect(d.summary).toContain("asks for /healthz, but the pods' readiness probe serves /");
});

test("a regional cluster whose zone with a pod has no NEG on the backend service: C1 fails, neg-zone-without-backend", async () => {
  const w = withNegBackend(buildWorld({ zones: ["us-central1-a", "us-central1-b", "us-central1-c"] }));
  const bs = w.compute.backendServices.find((b) => b.name === NEG)!;
  bs.backends = bs.backends!.filter((b) => !b.group!.includes("/us-central1-c/"));
  const r = await verifyWorld(w, "us-central1");
  expect(verdict(r, "C1").verdict).toBe("fail");
  expect(verdict(r, "C1").summary).toContain("zone us-central1-c has ready pod(s) hello-6d5f7c8b9-zr4kp but no NEG");
  expect(causes(r)).toContain(`backend-service ${NEG} neg-zone-without-backend`);
  // the zone's missing NEG is why C10 misses its pod's endpoint: the same cause explains C10
  expect(verdict(r, "C10").verdict).toBe("fail");
  const zone = r.diagnosis.find((d) => d.cause === "neg-zone-without-backend")!;
  expect(zone.claims).toEqual(["C1", "C10"]);
  expect(zone.summary).toMatch(/their endpoint 10\.\d+\.\d+\.\d+:8080 is in none of its NEGs/);
  expect(causes(r).filter((c) => c.endsWith(" unexplained"))).toEqual([]);
});

test("bad input, judged and said plainly: a serverless NEG, a NEG in a zone with no node, NEG and instance groups on one path", async () => {
  const w = withNegBackend(buildWorld());
  const bs = w.compute.backendServices.find((b) => b.name === NEG)!;
  const serverless = `https://www.googleapis.com/compute/v1/projects/${w.project}/regions/us-central1/networkEndpointGroups/run-hello`;
  w.compute.networkEndpointGroups.push({ kind: "compute#networkEndpointGroup", name: "run-hello", selfLink: serverless, region: "https://www.googleapis.com/compute/v1/projects/ingress-path-demo/regions/us-central1", networkEndpointType: "SERVERLESS", cloudRun: { service: "hello" } });
  const emptyZone = negLink(w, "us-central1-f");
  w.compute.networkEndpointGroups.push({ kind: "compute#networkEndpointGroup", name: NEG, selfLink: emptyZone, zone: "https://www.googleapis.com/compute/v1/projects/ingress-path-demo/zones/us-central1-f", networkEndpointType: "GCE_VM_IP_PORT", defaultPort: 8080, size: 0 });
  w.compute.networkEndpoints![emptyZone] = [];
  const ig = `https://www.googleapis.com/compute/v1/projects/${w.project}/zones/${w.zone}/instanceGroups/${w.names.instanceGroup}`;
  bs.backends!.push({ group: serverless }, { group: emptyZone }, { group: ig });
  const r = await verifyWorld(w);
  expect(verdict(r, "C1").summary).toContain("NEG run-hello is of type SERVERLESS, not GCE_VM_IP_PORT");
  expect(verdict(r, "C1").summary).toContain(`NEG ${NEG} is in zone us-central1-f, where the cluster has no node`);
  expect(verdict(r, "C10").summary).toContain("reaches both NEGs");
  expect(causes(r)).toEqual(expect.arrayContaining([`backend-service ${NEG} neg-and-instance-groups`, "network-endpoint-group run-hello neg-not-container-native"]));
});

test("svcneg not served (404, no CRD): could not read, not a fail; the NEG claims still judged from what was read", async () => {
  const w = withNegBackend(buildWorld());
  delete w.kube.svcNegs;
  const r = await verifyWorld(w);
  expect(verdict(r, "C10").verdict).toBe("pass");
  expect(r.model.loadBalancer?.networkEndpointGroups?.[0]?.endpoints).toHaveLength(2);
});

// ---------------------------------------------------------------- the report's path

interface JsonHop { hop: string; name: string; address?: string; port?: number; health?: string; node?: string; skipped?: boolean; detail?: string }
const pathOf = (r: WorldReport) => (r as unknown as { path: JsonHop[] }).path;

test("the JSON path tells the NEG path: a network-endpoint-group hop per zone, an endpoint hop per p-ip:p-port with health and node, the nat box skipped", async () => {
  const w = withNegBackend(buildWorld());
  const r = await verifyWorld(w);
  const path = pathOf(r);
  expect(path.find((h) => h.hop === "backend-service")!.name).toBe(NEG);
  expect(path.some((h) => h.hop === "instance-group")).toBe(false);
  expect(path.filter((h) => h.hop === "network-endpoint-group").map((h) => h.name)).toEqual([NEG]);
  expect(path.filter((h) => h.hop === "endpoint").map((h) => `${h.address}:${h.port} ${h.health} ${h.node}`)).toEqual([
    `10.4.0.5:8080 HEALTHY ${w.nodeNames[0]}`,
    `10.4.2.7:8080 HEALTHY ${w.nodeNames[2]}`,
  ]);
  for (const id of ["node", "kube-nodeports", "kube-svc", "kube-sep"]) expect(path.find((h) => h.hop === id)!.skipped).toBe(true);
});

test("the path's backend-service hop names the service the path rule sends to, not the URL map's default (instance groups too)", async () => {
  const w = buildWorld();
  const link = (name: string) => `https://www.googleapis.com/compute/v1/projects/${w.project}/global/backendServices/${name}`;
  const um = w.compute.urlMaps[0]!;
  um.defaultService = link(w.names.defaultHttpBackend);
  um.hostRules = [{ hosts: ["*"], pathMatcher: "host1" }];
  um.pathMatchers = [{ name: "host1", defaultService: link(w.names.defaultHttpBackend), pathRules: [{ paths: ["/*"], service: link(w.names.backendService) }] }];
  const ing = w.kube.ingresses[0]!;
  delete ing.spec!.defaultBackend;
  ing.spec!.rules = [{ http: { paths: [{ path: "/*", pathType: "ImplementationSpecific", backend: { service: { name: "hello", port: { number: 80 } } } }] } }];
  const r = await verifyWorld(w);
  expect(pathOf(r).find((h) => h.hop === "backend-service")!.name).toBe(w.names.backendService);
});

test("every pod waits for its NEG gate behind a firewall lacking p-port: the firewall and the gates are named, not a failing readiness probe; the waiting pods still count as endpoints", async () => {
  const w = withNegBackend(buildWorld());
  w.compute.firewalls.find((f) => f.name === w.names.firewall)!.allowed = [{ IPProtocol: "tcp", ports: ["30080", "31876"] }];
  unhealthy(w, ["10.4.0.5", "10.4.2.7"]);
  gate(w, 0, "False", "LoadBalancerNegNotReady");
  gate(w, 1, "False", "LoadBalancerNegNotReady");
  for (const s of w.kube.endpointSlices) for (const e of s.endpoints ?? []) e.conditions = { ready: false, serving: true, terminating: false };
  const r = await verifyWorld(w);
  expect(r.diagnosis.map((d) => d.cause)).toEqual(["neg-firewall-pod-port", "neg-readiness-gate-stuck", "neg-readiness-gate-stuck"]);
  expect(verdict(r, "C10").verdict).toBe("pass");
  expect(verdict(r, "C1").summary).toContain("or one waiting for its NEG readiness gate");
});

test("a named targetPort and a firewall without p-port (ingress-gce#1461): p-port read from the pods' named port, the fix says the name is why", async () => {
  const w = withNegBackend(buildWorld());
  w.kube.services[0]!.spec!.ports![0]!.targetPort = "http" as unknown as number;
  w.compute.firewalls.find((f) => f.name === w.names.firewall)!.allowed = [{ IPProtocol: "tcp", ports: ["30000-32767"] }];
  unhealthy(w, ["10.4.0.5", "10.4.2.7"]);
  const r = await verifyWorld(w);
  const fw = r.diagnosis.find((d) => d.cause === "neg-firewall-pod-port")!;
  expect(fw.summary).toContain("p-port 8080");
  expect(fw.fix).toContain("as here (targetPort http)");
});

test("a gate True because no backend service health-checks the NEG: neg-readiness-gate-unchecked", async () => {
  const w = withNegBackend(buildWorld());
  gate(w, 0, "True", "LoadBalancerNegWithoutHealthCheck", "Pod is in NEG \"Key{...}\". NEG is not attached to any BackendService with health checking. Marking condition to True.");
  const r = await verifyWorld(w);
  expect(causes(r)).toEqual(["pod hello-6d5f7c8b9-q2w7x neg-readiness-gate-unchecked"]);
});

test("no neg-status on the Service, then a neg-status naming another NEG: neg-status-missing, neg-not-the-services", async () => {
  const w = withNegBackend(buildWorld());
  delete w.kube.services[0]!.metadata!.annotations!["cloud.google.com/neg-status"];
  const r = await verifyWorld(w);
  expect(verdict(r, "C10").summary).toContain("has no cloud.google.com/neg-status annotation");
  expect(causes(r)).toContain("service default/hello neg-status-missing");

  const w2 = withNegBackend(buildWorld());
  w2.kube.services[0]!.metadata!.annotations!["cloud.google.com/neg-status"] = JSON.stringify({ network_endpoint_groups: { "80": "k8s1-5d2c8f3a-default-other-80-00000000" }, zones: ["us-central1-a"] });
  const r2 = await verifyWorld(w2);
  expect(causes(r2)).toContain(`network-endpoint-group ${NEG} neg-not-the-services`);

  const w3 = withNegBackend(buildWorld());
  w3.kube.services[0]!.metadata!.annotations!["cloud.google.com/neg-status"] = "{not json";
  const r3 = await verifyWorld(w3);
  expect(verdict(r3, "C10").verdict).toBe("cannot-tell");
  expect(verdict(r3, "C10").summary).toContain("neg-status annotation could not be parsed");
});

test("the Mermaid picture of a NEG path: NEG boxes under the backend service, an edge per endpoint p-ip:p-port to its pod, the nat boxes marked skipped", async () => {
  const w = withNegBackend(buildWorld({ zones: ["us-central1-a", "us-central1-b", "us-central1-c"] }));
  const r = await verifyWorld(w, "us-central1");
  const mermaid = renderMermaid(r.model as unknown as PathModel, r.checks as unknown as CheckResult[]);
  expect(mermaid).toContain("bs --> neg0");
  expect(mermaid).toMatch(/neg\d -.->\|"10\.4\.0\.5:8080 HEALTHY<br\/>via gke-ingress-path-default-pool-7c9e1b2a-4mzq, no NAT"\| pod0/);
  expect(mermaid).toMatch(/neg\d -.->\|"10\.4\.2\.7:8080 HEALTHY<br\/>via gke-ingress-path-default-pool-7c9e1b2a-x2lp, no NAT"\| pod1/);
  expect(mermaid).toContain("not on the NEG path (skipped)");
  expect(mermaid).not.toMatch(/bs --> nat/);
});

test("a NEG Service of type ClusterIP (no n-port): the NEG path is judged all the same, nothing about n-port fails", async () => {
  const w = withNegBackend(buildWorld());
  const svc = w.kube.services[0]!;
  svc.spec!.type = "ClusterIP";
  delete svc.spec!.ports![0]!.nodePort;
  delete svc.spec!.externalTrafficPolicy;
  const r = await verifyWorld(w);
  expect(r.checks.filter((c) => c.verdict === "fail").map((c) => `${c.id}: ${c.summary}`)).toEqual([]);
  for (const id of ["C1", "C10", "C11"]) expect({ id, verdict: verdict(r, id).verdict }).toEqual({ id, verdict: "pass" });
  expect(r.diagnosis).toEqual([]);
});
