// The GCP source against the Compute stand-in: real client (@googleapis/compute), real HTTP,
// real Authorization header, Google's error bodies. Each scenario is derived from one world.
import { collectLoadBalancer, fetchHostKeys, cidrContains, type GcpOptions } from "../../verifier/sources/gcp";
import type { Problem } from "../../verifier/model";
import { silentProgress, type Progress } from "../../verifier/sources/types";
import { startComputeStandin, type ComputeStandin, type ComputeStandinOptions } from "../support/rest-standins/compute";
import {
  buildWorld,
  ingressAnnotations,
  withLoadBalancerNotProvisioned,
  withNegBackend,
  withUnhealthyNode,
  type GkeWorld,
} from "../support/rest-standins/world";

const fastRetry = { retries: 2, initialDelayMs: 5, maxDelayMs: 20 };
let standins: ComputeStandin[] = [];

async function serve(world: GkeWorld, extra: Partial<ComputeStandinOptions> = {}): Promise<ComputeStandin> {
  const standin = await startComputeStandin(world.compute, { token: world.token, ...extra });
  standins.push(standin);
  return standin;
}

function options(world: GkeWorld, standin: ComputeStandin, extra: Partial<GcpOptions> = {}): GcpOptions {
  return { rootUrl: `${standin.url}/`, accessToken: world.token, progress: silentProgress, retry: fastRetry, ...extra };
}

afterEach(async () => {
  await Promise.all(standins.map((s) => s.close()));
  standins = [];
});

describe("collectLoadBalancer", () => {
  test("happy path fills the whole model from the annotations' names", async () => {
    const world = buildWorld();
    const standin = await serve(world);
    const hops: string[] = [];
    const progress: Progress = { hop: (name, state) => hops.push(`${name}:${state}`) };
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin, { progress }));

    expect(problems).toEqual([]);
    expect(value?.forwardingRule).toEqual({
      name: world.names.forwardingRule,
      ipAddress: world.loadBalancerIp,
      ipProtocol: "TCP",
      portRange: "80-80",
      target: expect.stringContaining(`/global/targetHttpProxies/${world.names.targetProxy}`),
      loadBalancingScheme: "EXTERNAL",
      global: true,
    });
    expect(value?.targetProxy).toEqual({ name: world.names.targetProxy, kind: "http", urlMap: world.names.urlMap });
    expect(value?.urlMap).toEqual({ name: world.names.urlMap, defaultService: world.names.backendService, hostRuleCount: 0, pathMatcherCount: 0 });
    expect(value?.backendServices).toHaveLength(1);
    const bs = value!.backendServices[0];
    expect(bs).toMatchObject({ name: world.names.backendService, protocol: "HTTP", portName: `port${world.nodePort}`, port: world.nodePort, healthChecks: [world.names.backendService] });
    expect(bs.backends).toEqual([{ group: world.names.instanceGroup, kind: "instanceGroup", zone: world.zone }]);
    expect(bs.health.map((h) => [h.instance, h.ipAddress, h.port, h.state])).toEqual(
      world.nodeNames.map((n, i) => [n, `10.128.0.1${i + 1}`, world.nodePort, "HEALTHY"]),
    );
    expect(value?.instanceGroups).toEqual([
      {
        name: world.names.instanceGroup,
        zone: world.zone,
        namedPorts: [
          { name: "port30080", port: 30080 },
          { name: "port31876", port: 31876 },
        ],
        instances: world.nodeNames,
      },
    ]);
    expect(value?.instances.map((i) => [i.name, i.internalIp, i.externalIp, i.networkTags])).toEqual(
      world.nodeNames.map((n, i) => [n, `10.128.0.1${i + 1}`, `34.123.10.2${i + 1}`, ["gke-ingress-path-7c9e1b2a-node"]]),
    );
    // only the rule from the GFE ranges, not the SSH or pod-range rules
    expect(value?.healthCheckFirewalls.map((f) => f.name)).toEqual([world.names.firewall]);
    expect(value?.healthCheckFirewalls[0]).toMatchObject({ sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"], allowed: [{ protocol: "tcp", ports: ["30080", "31876"] }], disabled: false });
    // the real bearer header reached the server on every call, and getHealth/listInstances were POSTs
    expect(standin.requests.every((r) => r.headers.authorization === `Bearer ${world.token}`)).toBe(true);
    expect(standin.requests.filter((r) => r.method === "POST").map((r) => r.path.split("/").pop())).toEqual(expect.arrayContaining(["getHealth", "listInstances"]));
    expect(standin.requests.find((r) => r.path.endsWith("/global/firewalls"))?.query.get("filter")).toBe('direction eq "INGRESS"');
    expect(hops).toContain("forwarding rule:ok");
    expect(hops.some((h) => h.endsWith(":fail"))).toBe(false);
  });

  test("load balancer not provisioned yet: a Problem saying to wait, firewalls still listed", async () => {
    const world = withLoadBalancerNotProvisioned(buildWorld());
    const standin = await serve(world);
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems).toHaveLength(1);
    // no "wait a few minutes" alone: the controller's reason is in the Ingress's events
    expect(problems[0].hint).toMatch(/Ingress's events.*kubectl describe ingress.*few minutes/);
    expect(value?.forwardingRule).toBeUndefined();
    expect(value?.backendServices).toEqual([]);
    expect(value?.healthCheckFirewalls.map((f) => f.name)).toEqual([world.names.firewall]);
    expect(standin.requests.some((r) => r.path.includes("forwardingRules"))).toBe(false);
  });

  test("one annotation missing is named", async () => {
    const world = buildWorld();
    const standin = await serve(world);
    const annotations = ingressAnnotations(world);
    delete annotations["ingress.kubernetes.io/url-map"];
    const { value, problems } = await collectLoadBalancer(world.project, annotations, options(world, standin));
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining("ingress.kubernetes.io/url-map")]);
    // the URL map is still found through the proxy's link
    expect(value?.urlMap?.name).toBe(world.names.urlMap);
  });

  test("an UNHEALTHY backend is reported per instance", async () => {
    const world = withUnhealthyNode(buildWorld(), 1);
    const standin = await serve(world);
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems).toEqual([]);
    expect(value?.backendServices[0].health.map((h) => h.state)).toEqual(["HEALTHY", "UNHEALTHY", "HEALTHY"]);
    expect(value?.backendServices[0].health[1].instance).toBe(world.nodeNames[1]);
  });

  test("a 429 is retried and then succeeds", async () => {
    const world = buildWorld();
    const standin = await serve(world, { faults: [{ match: /^GET .*\/global\/urlMaps\//, status: 429, times: 1 }, { match: /getHealth$/, status: 503, times: 1 }] });
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems).toEqual([]);
    expect(value?.urlMap?.defaultService).toBe(world.names.backendService);
    expect(value?.backendServices[0].health).toHaveLength(3);
    expect(standin.requests.filter((r) => r.path.endsWith(`/urlMaps/${world.names.urlMap}`))).toHaveLength(2);
    expect(standin.requests.filter((r) => r.path.endsWith("/getHealth"))).toHaveLength(2);
  });

  test("a 429 that persists is retried a bounded number of times, then becomes a Problem", async () => {
    const world = buildWorld();
    const standin = await serve(world, { faults: [{ match: /^GET .*\/global\/urlMaps\//, status: 429, times: Infinity }] });
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(standin.requests.filter((r) => r.path.endsWith(`/urlMaps/${world.names.urlMap}`))).toHaveLength(1 + fastRetry.retries);
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/url map .*429/);
    expect(problems[0].hint).toMatch(/quota|rate limit/);
    // the backend service is still followed from the `backends` annotation
    expect(value?.backendServices.map((b) => b.name)).toEqual([world.names.backendService]);
    expect(value?.instances).toHaveLength(3);
  });

  test("a 403 names the permission and the gcloud fix; the other hops are still collected", async () => {
    const world = buildWorld();
    const standin = await serve(world, { deniedPermissions: ["compute.backendServices.get"] });
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toContain("compute.backendServices.get");
    expect(problems[0].hint).toContain(`gcloud projects add-iam-policy-binding ${world.project}`);
    expect(problems[0].hint).toContain("roles/compute.viewer");
    expect(value?.forwardingRule?.ipAddress).toBe(world.loadBalancerIp);
    expect(value?.urlMap?.defaultService).toBe(world.names.backendService);
    expect(value?.healthCheckFirewalls).toHaveLength(1);
    expect(value?.backendServices).toEqual([]);
  });

  test("a disabled Compute API says which API to enable", async () => {
    const world = buildWorld();
    const standin = await serve(world, { apiDisabled: true });
    const { problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems.every((p) => p.hint === `gcloud services enable compute.googleapis.com --project ${world.project}`)).toBe(true);
  });

  test("a 404 says the resource is gone", async () => {
    const world = buildWorld();
    world.compute.urlMaps = [];
    const standin = await serve(world);
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ subject: world.names.urlMap, message: expect.stringMatching(/not found \(404\).*gone/) });
    expect(value?.targetProxy?.name).toBe(world.names.targetProxy);
    expect(value?.instances).toHaveLength(3);
  });

  test("a refused token (401) points at Application Default Credentials", async () => {
    const world = buildWorld();
    const standin = await serve(world);
    const { problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), { ...options(world, standin), accessToken: "ya29.expired" });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].hint).toContain("gcloud auth application-default login");
  });

  test("a NEG backend is recognised and recorded as networkEndpointGroup", async () => {
    const world = withNegBackend(buildWorld());
    const standin = await serve(world);
    const { value, problems } = await collectLoadBalancer(world.project, ingressAnnotations(world), options(world, standin));
    expect(problems).toEqual([]);
    const neg = world.compute.networkEndpointGroups[0].name!;
    expect(value?.urlMap?.defaultService).toBe(neg);
    expect(value?.backendServices).toHaveLength(1);
    expect(value?.backendServices[0].backends).toEqual([{ group: neg, kind: "networkEndpointGroup", zone: world.zone }]);
    expect(value?.backendServices[0].health.map((h) => [h.ipAddress, h.port, h.state])).toEqual([
      ["10.4.0.5", 8080, "HEALTHY"],
      ["10.4.2.7", 8080, "HEALTHY"],
    ]);
    // no instance group on this path: the LB goes straight to pod IPs
    expect(value?.instanceGroups).toEqual([]);
  });
});

describe("fetchHostKeys", () => {
  test("reads the hostkeys/ guest attributes as OpenSSH lines", async () => {
    const world = buildWorld();
    const standin = await serve(world);
    const keys = await fetchHostKeys(world.project, world.nodeNames.map((name) => ({ name, zone: world.zone })), options(world, standin));
    expect([...keys.keys()].sort()).toEqual([...world.nodeNames].sort());
    for (const name of world.nodeNames) {
      const expected = world.compute.guestAttributes[name].map((e) => `${e.key} ${e.value}`);
      expect(keys.get(name)).toEqual(expected);
      expect(keys.get(name)![0]).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+$/);
    }
    expect(standin.requests.every((r) => r.query.get("queryPath") === "hostkeys/")).toBe(true);
  });

  test("an instance without guest attributes maps to [] with a Problem explaining how to check", async () => {
    const world = buildWorld();
    world.compute.instances[2].metadata = { items: [] };
    const standin = await serve(world);
    const problems: Problem[] = [];
    const keys = await fetchHostKeys(world.project, world.nodeNames.map((name) => ({ name, zone: world.zone })), options(world, standin, { problems }));
    expect(keys.get(world.nodeNames[2])).toEqual([]);
    expect(keys.get(world.nodeNames[0])).toHaveLength(2);
    expect(problems).toHaveLength(1);
    expect(problems[0].hint).toContain("enable-guest-attributes=TRUE");
    expect(problems[0].hint).toContain(`get-guest-attributes ${world.nodeNames[2]}`);
  });
});

describe("cidrContains", () => {
  test.each([
    ["130.211.0.0/22", "130.211.0.0/22", true],
    ["0.0.0.0/0", "35.191.0.0/16", true],
    ["130.211.0.0/16", "130.211.0.0/22", true],
    ["130.211.0.0/24", "130.211.0.0/22", false],
    ["35.235.240.0/20", "35.191.0.0/16", false],
    ["not-a-cidr", "35.191.0.0/16", false],
  ])("%s contains %s: %s", (outer, inner, expected) => {
    expect(cidrContains(outer, inner)).toBe(expected);
  });
});
