// `npm run verify` end to end in the REST stand-in world, one broken object per test: the live
// Compute and Kubernetes sources (the official clients, real HTTP) read the stand-ins, the checks
// judge, and the JSON report's diagnosis is asserted by its fields (hop, subject, cause). The nodes
// are not read over SSH here (their claims are cannot-tell), so what is diagnosed comes from the APIs.
import type { Diagnosis } from "../../verifier/model";
import { buildWorld, withNegBackend } from "../support/rest-standins/world";
import * as s from "../support/rest-standins/scenarios";
import { loadLiveSources } from "../../verifier/verify";
import { verifyWorld, type WorldReport as Report } from "../support/rest-standins/verify-world";

// the live sources load the Kubernetes client once (seconds on a busy machine); not a test's time
beforeAll(() => loadLiveSources(), 60_000);

const fields = (d: Diagnosis[]) => d.map((x) => ({ hop: x.hop, subject: x.subject, cause: x.cause }));
const verdict = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;

test("the healthy stand-in world: no claim fails and the diagnosis is empty", async () => {
  const r = await verifyWorld(buildWorld());
  expect(r.checks.filter((c) => c.verdict === "fail")).toEqual([]);
  expect(["C1", "C8", "C9", "C10", "C11"].map((id) => verdict(r, id).verdict)).toEqual(["pass", "pass", "pass", "pass", "pass"]);
  expect(r.diagnosis).toEqual([]);
});

test("the project's stack with a regional location: three zonal groups of the same name, all judged by zone", async () => {
  const zones = ["us-central1-a", "us-central1-b", "us-central1-c"];
  const r = await verifyWorld(buildWorld({ zones }));
  expect(r.diagnosis).toEqual([]);
  expect(verdict(r, "C10").verdict).toBe("pass");
  for (const z of zones) expect(verdict(r, "C10").summary).toContain(`(${z})`);
  expect(verdict(r, "C11").summary).toContain("all 3 backends are HEALTHY");
  // each zone's group was read in its own zone, once
  for (const z of zones) expect(r.computePaths.filter((p) => p.endsWith(`/zones/${z}/instanceGroups/k8s-ig--5d2c8f3a91b04e76`))).toHaveLength(1);
});

test("regional location, one zone's group lost its named port: C10 fails naming that zone; named-port-missing on that group only", async () => {
  const world = s.withNamedPort(buildWorld({ zones: ["us-central1-a", "us-central1-b", "us-central1-c"] }), "us-central1-b", undefined);
  const r = await verifyWorld(world);
  expect(verdict(r, "C10").verdict).toBe("fail");
  expect(verdict(r, "C10").summary).toContain("instance group k8s-ig--5d2c8f3a91b04e76 in us-central1-b has no named port port30080");
  expect(verdict(r, "C10").summary).not.toContain("us-central1-a");
  expect(fields(r.diagnosis)).toEqual([{ hop: "instance-group", subject: "us-central1-b/k8s-ig--5d2c8f3a91b04e76", cause: "named-port-missing" }]);
  expect(r.diagnosis[0].claims).toEqual(expect.arrayContaining(["C10", "C11"]));
});

test("named port mapped to another port", async () => {
  const r = await verifyWorld(s.withNamedPort(buildWorld(), "us-central1-a", 31999));
  expect(fields(r.diagnosis)).toEqual([{ hop: "instance-group", subject: "us-central1-a/k8s-ig--5d2c8f3a91b04e76", cause: "named-port-wrong" }]);
});

describe("health check", () => {
  test("its path differs from the readiness probe and the backends fail it", async () => {
    const r = await verifyWorld(s.withHealthCheckPath(buildWorld(), "/", "/healthz"));
    expect(fields(r.diagnosis)).toEqual([{ hop: "health-check", subject: "k8s-be-30080--5d2c8f3a91b04e76", cause: "health-check-path-mismatch" }]);
    expect(r.diagnosis[0].claims).toEqual(["C11"]);
    expect(r.diagnosis[0].evidence.map((e) => e.detail).join("\n")).toContain("readinessProbe.httpGet path=/healthz");
  });

  test("it probes a fixed port other than n-port", async () => {
    const r = await verifyWorld(s.withHealthCheckPort(buildWorld(), 8080));
    expect(fields(r.diagnosis)).toEqual([{ hop: "health-check", subject: "k8s-be-30080--5d2c8f3a91b04e76", cause: "health-check-port-mismatch" }]);
  });
});

describe("firewall, evaluated as the VPC does", () => {
  test("no rule admits the health checkers", async () => {
    const r = await verifyWorld(s.withoutHealthCheckFirewall(buildWorld()));
    expect(fields(r.diagnosis)).toEqual([{ hop: "firewall", subject: "network ingress-path-vpc", cause: "firewall-missing" }]);
    expect(verdict(r, "C11").summary).toContain("the VPC firewall drops 130.211.0.0/22");
  });

  test("the rule is in another network: not counted as letting them in", async () => {
    const r = await verifyWorld(s.withFirewallInNetwork(buildWorld(), "default"));
    expect(fields(r.diagnosis)).toEqual([{ hop: "firewall", subject: "k8s-fw-l7--5d2c8f3a91b04e76", cause: "firewall-other-network" }]);
    expect(verdict(r, "C11").verdict).toBe("fail");
  });

  test("a deny rule at a better priority wins", async () => {
    const r = await verifyWorld(s.withDenyRule(buildWorld(), 900));
    expect(fields(r.diagnosis)).toEqual([{ hop: "firewall", subject: "deny-all-ingress", cause: "firewall-deny-overrides" }]);
  });

  test("a deny rule at the same priority also wins (deny over allow)", async () => {
    const r = await verifyWorld(s.withDenyRule(buildWorld(), 1000));
    expect(fields(r.diagnosis)).toEqual([{ hop: "firewall", subject: "deny-all-ingress", cause: "firewall-deny-overrides" }]);
  });

  test("a deny rule at a worse priority loses: healthy, empty diagnosis", async () => {
    const world = s.withDenyRule(buildWorld(), 65000);
    for (const e of Object.values(world.compute.health[world.names.backendService]).flat()) e.healthState = "HEALTHY";
    const r = await verifyWorld(world);
    expect(verdict(r, "C11").verdict).toBe("pass");
    expect(r.diagnosis).toEqual([]);
  });

  test("the rule is disabled", async () => {
    const r = await verifyWorld(s.withFirewallDisabled(buildWorld()));
    expect(fields(r.diagnosis)).toEqual([{ hop: "firewall", subject: "k8s-fw-l7--5d2c8f3a91b04e76", cause: "firewall-disabled" }]);
  });
});

describe("the Service and its endpoints", () => {
  test("type ClusterIP: the controller's Warning event is quoted; never 'wait a few minutes'", async () => {
    const r = await verifyWorld(s.withClusterIpService(buildWorld()));
    expect(fields(r.diagnosis)).toEqual([{ hop: "service", subject: "default/hello", cause: "service-type-clusterip" }]);
    expect(r.diagnosis[0].summary).toContain('is type \\"ClusterIP\\"'.replace(/\\/g, ""));
    expect(JSON.stringify(r)).not.toMatch(/few minutes/);
    // C9's summary says it once, not twice
    expect(verdict(r, "C9").summary.match(/annotations/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  test("the Ingress names a Service that does not exist", async () => {
    const r = await verifyWorld(s.withIngressServiceMissing(buildWorld()));
    expect(fields(r.diagnosis)).toEqual(expect.arrayContaining([{ hop: "service", subject: "default/helo", cause: "ingress-service-not-found" }]));
  });

  test("the selector matches no pod", async () => {
    const r = await verifyWorld(s.withSelector(buildWorld(), { app: "hello-v2" }));
    expect(fields(r.diagnosis)).toEqual([{ hop: "service", subject: "default/hello", cause: "selector-matches-no-pod" }]);
  });

  test("a named targetPort no container declares", async () => {
    const r = await verifyWorld(s.withNamedTargetPort(buildWorld(), "web"));
    expect(fields(r.diagnosis)).toEqual(expect.arrayContaining([{ hop: "service", subject: "default/hello", cause: "target-port-name-unknown" }]));
  });

  test("no endpoint is ready", async () => {
    const r = await verifyWorld(s.withPodsNotReady(buildWorld()));
    expect(fields(r.diagnosis)).toEqual([{ hop: "endpoints", subject: "default/hello", cause: "no-ready-endpoints" }]);
  });

  test("a pod that is not running", async () => {
    const r = await verifyWorld(s.withPodPending(buildWorld(), 1));
    expect(fields(r.diagnosis)).toEqual(expect.arrayContaining([{ hop: "pod", subject: "hello-6d5f7c8b9-zr4kp", cause: "pod-not-running" }]));
  });
});

test("a load balancer never made, any other reason: lb-not-created quotes the controller's warning", async () => {
  const world = s.withInternalIngressNoProxySubnet(buildWorld());
  world.kube.events![0].message = "Error syncing to GCP: error running load balancer syncing routine: googleapi: Error 403: QUOTA_EXCEEDED - Quota 'BACKEND_SERVICES' exceeded.  Limit: 9.0 globally., quotaExceeded";
  const r = await verifyWorld(world);
  expect(fields(r.diagnosis)).toEqual([{ hop: "forwarding-rule", subject: "default/hello", cause: "lb-not-created" }]);
  expect(r.diagnosis[0].summary).toContain("Quota 'BACKEND_SERVICES' exceeded");
});

test("NEG backends on the Service's path: judged on their own path, nothing fails, no advice to switch back", async () => {
  const r = await verifyWorld(withNegBackend(buildWorld()));
  expect(r.checks.filter((c) => c.verdict === "fail")).toEqual([]);
  expect(r.diagnosis).toEqual([]);
});

test("a node outside its zone's instance group: said so, not 'no VM instance found'", async () => {
  const world = s.withNodeOutsideGroup(buildWorld(), 1);
  const r = await verifyWorld(world);
  expect(fields(r.diagnosis)).toEqual([{ hop: "instance-group", subject: world.nodeNames[1], cause: "node-not-in-instance-group" }]);
  expect(verdict(r, "C1").summary).toContain("is in none of the instance groups");
  expect(JSON.stringify(r)).not.toContain("no VM instance found");
});

test("a gce-internal Ingress without a proxy-only subnet: proxy-only-subnet-missing, quoting the controller's Sync warning", async () => {
  const r = await verifyWorld(s.withInternalIngressNoProxySubnet(buildWorld()));
  expect(fields(r.diagnosis)).toEqual([{ hop: "forwarding-rule", subject: "default/hello", cause: "proxy-only-subnet-missing" }]);
  expect(r.diagnosis[0].summary).toContain("An active proxy-only subnetwork is required");
});
