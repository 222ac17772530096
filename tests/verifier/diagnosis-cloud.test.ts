// cloudCauses on the hand-written model where the evidence comes from beside the APIs: the health
// checker's own detail (the lab LB) and the nodes' probes of n-ip:n-port, and the
// externalTrafficPolicy Local case that is not a fault.
import type { PathModel } from "../../verifier/model";
import { runChecks } from "../../verifier/checks";
import { diagnose } from "../../verifier/checks/diagnosis";
import { gkeModel, NODES, NODE_PORT, PODS } from "./fixtures/gke-model";

const BS_HC = "k8s1-2c3d4e5f-ingress-path-hello-80-6b1e4f2a";

function withHealthCheck(m: PathModel, requestPath: string): PathModel {
  m.loadBalancer!.healthChecks = [{ name: BS_HC, type: "HTTP", port: NODE_PORT, portSpecification: "USE_FIXED_PORT", requestPath }];
  return m;
}
const causes = (m: PathModel) => diagnose(m, runChecks(m)).map((d) => ({ hop: d.hop, subject: d.subject, cause: d.cause, claims: d.claims }));

test("the healthy model: no cause", () => {
  expect(causes(withHealthCheck(gkeModel(), "/"))).toEqual([]);
});

test("the health checker says HTTP 301 on the health check's path: health-check-path-not-200, explaining C11", () => {
  const m = withHealthCheck(gkeModel(), "/");
  for (const p of m.kubernetes!.pods) p.readinessProbe = { path: "/healthz", port: 8080 };
  const h = m.loadBalancer!.backendServices[0].health[1];
  h.state = "UNHEALTHY";
  h.detail = "HTTP 301";
  const d = diagnose(m, runChecks(m));
  expect(d.map((x) => [x.hop, x.subject, x.cause])).toEqual([["health-check", BS_HC, "health-check-path-not-200"]]);
  expect(d[0].claims).toEqual(["C11"]);
  expect(d[0].summary).toContain("gets HTTP 301 from " + NODES[1].name);
  expect(d[0].fix).toContain("readiness probe's path /healthz");
});

test("a node's own probe of n-ip:n-port with the health check's path shows the status", () => {
  const m = withHealthCheck(gkeModel(), "/");
  for (const h of m.loadBalancer!.backendServices[0].health) h.state = "UNHEALTHY";
  m.nodes[0].probes = [{ target: "node-port", address: NODES[0].internalIp, port: NODE_PORT, path: "/", command: `curl -sS -o /dev/null -w %{http_code} http://${NODES[0].internalIp}:${NODE_PORT}/`, outcome: { kind: "http", status: 404 } }];
  const d = diagnose(m, runChecks(m));
  expect(d.map((x) => [x.hop, x.cause])).toEqual([["health-check", "health-check-path-not-200"]]);
  expect(d[0].evidence.some((e) => e.node === NODES[0].name && e.detail.includes("HTTP 404"))).toBe(true);
});

test("externalTrafficPolicy Local: the pod-less node UNHEALTHY is by design, C11 passes saying so, no cause", () => {
  const m = withHealthCheck(gkeModel(), "/");
  m.kubernetes!.service!.externalTrafficPolicy = "Local";
  const podless = NODES.find((n) => !PODS.some((p) => p.nodeName === n.name))!;
  m.loadBalancer!.backendServices[0].health.find((h) => h.instance === podless.name)!.state = "UNHEALTHY";
  const c11 = runChecks(m).find((r) => r.id === "C11")!;
  expect(c11.verdict).toBe("pass");
  expect(c11.summary).toContain(`${podless.name} runs no pod and externalTrafficPolicy is Local`);
  expect(causes(m).filter((c) => c.cause !== "unexplained")).toEqual([]);
});

test("a pod-ful node UNHEALTHY under Local is still a failure", () => {
  const m = withHealthCheck(gkeModel(), "/");
  m.kubernetes!.service!.externalTrafficPolicy = "Local";
  m.loadBalancer!.backendServices[0].health.find((h) => h.instance === PODS[0].nodeName)!.state = "UNHEALTHY";
  expect(runChecks(m).find((r) => r.id === "C11")!.verdict).toBe("fail");
});
