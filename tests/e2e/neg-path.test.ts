// The container-native path (NEG) judged hop by hop through the live sources against the REST
// stand-ins: the Compute API (NEGs, listNetworkEndpoints, getHealth) and the Kubernetes API
// (neg-status, readiness gates, svcneg) as GKE serves them. No SSH, no requests: the node claims
// and C12 are cannot-tell here; the NEG claims C1, C10, C11 are judged from what was read.
import { buildWorld, withNegBackend } from "../support/rest-standins/world";
import { verifyWorld } from "../support/rest-standins/verify-world";

const verdict = (r: Awaited<ReturnType<typeof verifyWorld>>, id: string) => r.checks.find((c) => c.id === id)!;

test("a healthy NEG path: C1, C10, C11 pass from the NEGs, their endpoints, the firewall to the pods and the gates", async () => {
  const r = await verifyWorld(withNegBackend(buildWorld()));
  for (const id of ["C1", "C9", "C10", "C11"]) expect({ id, verdict: verdict(r, id).verdict, summary: verdict(r, id).summary }).toEqual({ id, verdict: "pass", summary: expect.any(String) });
  expect(verdict(r, "C10").summary).toContain("10.4.0.5:8080");
  expect(verdict(r, "C11").summary).toContain("p-port 8080");
  expect(r.computePaths).toContain("POST /compute/v1/projects/ingress-path-demo/zones/us-central1-a/networkEndpointGroups/k8s1-5d2c8f3a-default-hello-80-9f2c1d7e/listNetworkEndpoints");
});
