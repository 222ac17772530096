// Real objects read right (issue "Verify the Ingress a user already has", item 1): each kind of
// object that real clusters return, served by the REST stand-ins and read through the official
// clients, then judged. Fixtures under tests/fixtures/gcloud are gcloud's JSON.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { compute_v1 } from "@googleapis/compute";
import { loadYaml, type CoreV1Event } from "@kubernetes/client-node";
import { collectLoadBalancer } from "../../verifier/sources/gcp";
import { silentProgress } from "../../verifier/sources/types";
import { startComputeStandin, type ComputeStandin } from "../support/rest-standins/compute";
import { buildWorld, ingressAnnotations, selfLink, type GkeWorld } from "../support/rest-standins/world";
import * as s from "../support/rest-standins/scenarios";
import { loadLiveSources } from "../../verifier/verify";
import { verifyWorld, type WorldReport } from "../support/rest-standins/verify-world";

const fixtureText = (name: string) => readFileSync(join(__dirname, "../fixtures/gcloud", name), "utf8");
const fixture = <T>(name: string): T => JSON.parse(fixtureText(name)) as T;
const check = (r: WorldReport, id: string) => r.checks.find((c) => c.id === id)!;
const evidence = (r: WorldReport, id: string) => check(r, id).evidence.map((e) => `${e.source} | ${e.detail}`).join("\n");
const notFound = (r: WorldReport) => r.computePaths.length > 0 && r.model.loadBalancer !== undefined;

// the live sources load the Kubernetes client once (seconds on a busy machine); not a test's time
beforeAll(() => loadLiveSources(), 60_000);

let standins: ComputeStandin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((x) => x.close()));
  standins = [];
});

describe("1. URL map host rules and path matchers decide the Service's backend service", () => {
  test("'/*' sent to an UNHEALTHY backend service fails C11 although defaultService is HEALTHY", async () => {
    const world = s.allUnhealthy(s.withPathMatcher(buildWorld()));
    const r = await verifyWorld(world);
    expect(evidence(r, "C10")).toContain(`host * path /* -> ${world.names.backendService} (hostRules[*] -> pathMatchers[host1928b4b3d7af7e9c] path /*)`);
    expect(check(r, "C11").verdict).toBe("fail");
    expect(check(r, "C11").summary).toContain(`is UNHEALTHY in ${world.names.backendService}`);
    expect(check(r, "C11").summary).not.toContain(world.names.defaultHttpBackend);
  });

  test("gcloud's URL map (compute/beta links, a named host and '*'): the Service's rule path resolves through '*'", async () => {
    const world = buildWorld();
    world.compute.urlMaps[0] = { ...fixture<compute_v1.Schema$UrlMap>("url-map-path-matcher.beta.json") };
    // a second Service on /api: its backend service exists but is another Service's
    world.compute.backendServices.push({ ...world.compute.backendServices[0], name: "k8s-be-31234--5d2c8f3a91b04e76", selfLink: selfLink(world.project, "global/backendServices/k8s-be-31234--5d2c8f3a91b04e76"), port: 31234, portName: "port31234", description: '{"kubernetes.io/service-name":"default/api","kubernetes.io/service-port":"80"}' });
    const ingress = world.kube.ingresses[0];
    delete ingress.spec!.defaultBackend;
    ingress.spec!.rules = [
      { host: "shop.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { number: 80 } } } }] } },
      { http: { paths: [{ path: "/api", pathType: "Prefix", backend: { service: { name: "api", port: { number: 80 } } } }, { path: "/", pathType: "Prefix", backend: { service: { name: "hello", port: { number: 80 } } } }] } },
    ];
    const r = await verifyWorld(world);
    expect(check(r, "C10").verdict).toBe("pass");
    expect(check(r, "C10").summary).toContain(`to ${world.names.backendService},`);
    expect(r.diagnosis).toEqual([]);
  });

  test("a path rule sending the Service's path to another Service's backend service fails C10 with url-map-wrong-backend", async () => {
    const world = s.withPathMatcher(buildWorld());
    world.compute.backendServices.find((b) => b.name === world.names.backendService)!.description = '{"kubernetes.io/service-name":"default/other","kubernetes.io/service-port":"80"}';
    const r = await verifyWorld(world);
    expect(check(r, "C10").verdict).toBe("fail");
    expect(r.diagnosis.map((d) => [d.hop, d.cause])).toEqual([["url-map", "url-map-wrong-backend"]]);
  });
});

describe("2. zonal instance groups: one k8s-ig--<uid> per zone, matched by zone and name", () => {
  test("a regional cluster's three groups are each read in their zone; evidence names zones", async () => {
    const world = buildWorld({ zones: ["us-central1-a", "us-central1-b", "us-central1-f"] });
    const standin = await startComputeStandin(world.compute, { token: world.token });
    standins.push(standin);
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), { rootUrl: `${standin.url}/`, accessToken: world.token, progress: silentProgress, location: "us-central1" });
    expect(problems).toEqual([]);
    expect(value!.instanceGroups.map((g) => [g.zone, g.name, g.instances.length])).toEqual([
      ["us-central1-a", world.names.instanceGroup, 1],
      ["us-central1-b", world.names.instanceGroup, 1],
      ["us-central1-f", world.names.instanceGroup, 1],
    ]);
    expect(value!.backendServices[0].health.map((h) => h.zone)).toEqual(["us-central1-a", "us-central1-b", "us-central1-f"]);
  });
});

test("gcloud beta's YAML of a regional cluster's backend service (compute/beta links): each zone's group judged", async () => {
  const world = buildWorld({ zones: ["us-central1-a", "us-central1-b", "us-central1-c"] });
  world.compute.backendServices[0] = loadYaml<compute_v1.Schema$BackendService>(fixtureText("backend-service-mixed.beta.yaml"));
  const r = await verifyWorld(world, "us-central1");
  expect(check(r, "C10").verdict).toBe("pass");
  expect(check(r, "C11").summary).toContain("all 3 backends are HEALTHY");
  expect(r.model.loadBalancer!.backendServices.find((b) => b.name === world.names.backendService)!.kubernetesService).toEqual({ service: "default/hello", port: "80" });
});

describe("3. NEG or instance groups, per backend service on the Service's path", () => {
  test("cert-manager's solver path on a NEG does not turn C10/C11 into cannot-tell", async () => {
    const r = await verifyWorld(s.withSolverNeg(buildWorld()));
    expect(check(r, "C10").verdict).toBe("pass");
    expect(check(r, "C11").verdict).toBe("pass");
    expect(r.diagnosis).toEqual([]);
  });
});

describe("4. redirect-url-map: the HTTP frontend redirects, the HTTPS one is judged", () => {
  test("said as a redirect; C9 and C10 judge the HTTPS path", async () => {
    const world = s.withHttpsRedirect(buildWorld());
    world.compute.urlMaps[1] = { ...fixture<compute_v1.Schema$UrlMap>("url-map-redirect.json") };
    const r = await verifyWorld(world);
    expect(r.model.loadBalancer!.forwardingRule!.name).toMatch(/^k8s2-fs-/);
    expect(r.model.loadBalancer!.targetProxy).toMatchObject({ kind: "https", urlMap: world.names.urlMap });
    expect(r.model.loadBalancer!.redirect!.urlMap!.defaultUrlRedirect).toEqual({ httpsRedirect: true, redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT" });
    expect(evidence(r, "C9")).toContain("only redirects (ingress.kubernetes.io/redirect-url-map: httpsRedirect=true");
    expect(check(r, "C9").verdict).toBe("pass");
    expect(check(r, "C10").verdict).toBe("pass");
    expect(JSON.stringify(r)).not.toMatch(/replacing the load balancer/);
  });
});

describe("5. target proxy kinds", () => {
  test("forwarding-rule + https-target-proxy without target-proxy: the proxy is read as HTTPS, no 404", async () => {
    const r = await verifyWorld(s.withHttpsOnlyAnnotations(buildWorld()));
    expect(r.computePaths.filter((p) => p.includes("/targetHttpProxies/"))).toEqual([]);
    expect(r.computePaths.some((p) => p.includes("/global/targetHttpsProxies/k8s2-ts-"))).toBe(true);
    expect(r.model.loadBalancer!.targetProxy!.kind).toBe("https");
    expect(check(r, "C9").verdict).toBe("pass");
    expect(notFound(r)).toBe(true);
  });
});

describe("6. regional Ingress classes read from regions/<region>/", () => {
  test.each(["gce-regional-external", "gce-internal"] as const)("%s: every LB resource from the regional collections, no global 404", async (cls) => {
    const world = s.withRegionalClass(buildWorld(), cls);
    world.compute.backendServices[0] = { ...fixture<compute_v1.Schema$BackendService>("backend-service-regional.json"), loadBalancingScheme: world.compute.backendServices[0].loadBalancingScheme };
    const r = await verifyWorld(world);
    const lbPaths = r.computePaths.filter((p) => /forwardingRules|Proxies|urlMaps|backendServices|healthChecks/.test(p));
    expect(lbPaths.length).toBeGreaterThan(4);
    expect(lbPaths.every((p) => p.includes("/regions/us-central1/"))).toBe(true);
    expect(r.model.loadBalancer!.forwardingRule).toMatchObject({ global: false, region: "us-central1" });
    expect(r.model.loadBalancer!.healthChecks!.map((h) => h.name)).toEqual([world.names.backendService, world.names.defaultHttpBackend].slice(0, r.model.loadBalancer!.healthChecks!.length));
    expect(check(r, "C10").verdict).toBe("pass");
    expect(check(r, "C11").verdict).toBe("pass");
    // an internal class's private address is what it makes, said as a fact
    expect(check(r, "C9").verdict).toBe("pass");
    if (cls === "gce-internal") expect(evidence(r, "C9")).toContain("gce-internal: an internal load balancer (INTERNAL_MANAGED) on 10.128.0.50");
    // the regional proxies' source range is evaluated beside the health checkers'
    expect(r.model.loadBalancer!.proxyOnlySubnets).toEqual([{ name: "proxy-only-us-central1", network: "ingress-path-vpc", ipCidrRange: "10.129.0.0/23", purpose: "REGIONAL_MANAGED_PROXY", role: "ACTIVE" }]);
    expect(evidence(r, "C11")).toContain(`10.129.0.0/23 -> ${world.nodeNames[0]} tcp:${world.nodePort}: allow`);
    expect(JSON.stringify(r.model)).not.toMatch(/replaced or deleted|not found \(404\)/);
  });
});

test("a regional class whose firewall does not admit the proxy-only subnet: firewall-missing for that range", async () => {
  const world = s.withRegionalClass(buildWorld(), "gce-regional-external");
  const fw = world.compute.firewalls.find((f) => f.name === world.names.firewall)!;
  fw.sourceRanges = fw.sourceRanges!.filter((x) => x !== "10.129.0.0/23");
  const r = await verifyWorld(world);
  expect(check(r, "C11").verdict).toBe("fail");
  expect(r.diagnosis.map((d) => [d.hop, d.subject, d.cause])).toEqual([["firewall", "network ingress-path-vpc", "firewall-missing"]]);
  expect(r.diagnosis[0].summary).toContain("10.129.0.0/23 (the regional proxies (proxy-only subnet proxy-only-us-central1))");
});

describe("7. a load balancer never made: the Ingress's events", () => {
  test("the Translate warning is quoted in C9 and in the diagnosis", async () => {
    const r = await verifyWorld(s.withIngressServiceMissing(buildWorld()));
    expect(check(r, "C9").summary).toContain('the controller says: Translate: "Translation failed: invalid ingress spec: could not find service');
    expect(r.diagnosis[0]).toMatchObject({ hop: "service", subject: "default/helo", cause: "ingress-service-not-found" });
  });
});

test("kubectl's YAML of the Ingress's events: a Translate warning beside a failing claim is controller-sync-error", async () => {
  const world = buildWorld();
  world.kube.events = loadYaml<{ items: CoreV1Event[] }>(fixtureText("ingress-events.yaml")).items;
  world.kube.ingresses[0].spec!.defaultBackend!.service!.port = { number: 8080 };
  const r = await verifyWorld(world);
  expect(check(r, "C10").verdict).toBe("fail");
  expect(r.diagnosis.map((d) => [d.hop, d.cause, d.claims])).toEqual([["forwarding-rule", "controller-sync-error", ["C10"]]]);
  expect(r.diagnosis[0].summary).toContain('could not find port \"8080\" in service'.replace(/\\/g, ""));
});

test("old Warning events beside a path where every claim holds: no diagnosis", async () => {
  const world = buildWorld();
  world.kube.events = loadYaml<{ items: CoreV1Event[] }>(fixtureText("ingress-events.yaml")).items;
  const r = await verifyWorld(world);
  expect(r.checks.filter((c) => c.verdict === "fail")).toEqual([]);
  expect(r.diagnosis).toEqual([]);
});

describe("8. private nodes", () => {
  test("no external IP is a fact about the cluster, not a failure of C1", async () => {
    const r = await verifyWorld(s.withPrivateNodes(buildWorld()));
    expect(check(r, "C1").verdict).toBe("pass");
    expect(check(r, "C1").summary).toContain("Fact: all nodes are private (no external IP");
    expect(r.diagnosis).toEqual([]);
  });
});

describe("health check resources", () => {
  test("the backend service's health check (port, path, type) is read; a legacy httpHealthCheck too", async () => {
    for (const world of [buildWorld(), s.withLegacyHttpHealthCheck(buildWorld())] as GkeWorld[]) {
      const standin = await startComputeStandin(world.compute, { token: world.token });
      standins.push(standin);
      const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), { rootUrl: `${standin.url}/`, accessToken: world.token, progress: silentProgress });
      expect(problems).toEqual([]);
      expect(value!.healthChecks!.find((h) => h.name === world.names.backendService)).toMatchObject({ type: "HTTP", port: world.nodePort, requestPath: "/" });
    }
  });

  test("every INGRESS rule of the nodes' network is kept, with priority, network and denied", async () => {
    const world = s.withDenyRule(buildWorld(), 900);
    world.compute.firewalls.push({ ...world.compute.firewalls[0], name: "other-net-gfe", network: selfLink(world.project, "global/networks/default") });
    const standin = await startComputeStandin(world.compute, { token: world.token });
    standins.push(standin);
    const { value } = await collectLoadBalancer(world.project, ingressAnnotations(world), { rootUrl: `${standin.url}/`, accessToken: world.token, progress: silentProgress });
    expect(value!.network).toBe("ingress-path-vpc");
    expect(value!.firewalls!.map((f) => f.name)).toEqual(["deny-all-ingress", "gke-ingress-path-7c9e1b2a-all", "gke-ingress-path-7c9e1b2a-ssh", world.names.firewall]);
    expect(value!.firewalls!.find((f) => f.name === "deny-all-ingress")).toMatchObject({ priority: 900, denied: [{ protocol: "all", ports: [] }], network: "ingress-path-vpc" });
    // the health-check ranges' rules of any network, for "a rule in another network"
    expect(value!.healthCheckFirewalls.map((f) => `${f.network}/${f.name}`)).toEqual(["ingress-path-vpc/deny-all-ingress", "ingress-path-vpc/k8s-fw-l7--5d2c8f3a91b04e76", "default/other-net-gfe"]);
  });
});
