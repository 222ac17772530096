// The sweep against the Compute stand-in: a project after `pulumi destroy` where the controller's
// resources stayed, next to another cluster's and to resources the controller never made.
import { runSweepCli, parseSweepArgs } from "../../verifier/cli/sweep";
import { carriesUid, classifyLeftovers, deleteCommands, deletionOrder, renderSweepText, sweepExitCode, sweepProject } from "../../verifier/sweep";
import { silentProgress } from "../../verifier/sources/types";
import { startComputeStandin, type ComputeStandin, type ComputeStandinOptions } from "../support/rest-standins/compute";
import { buildWorld, selfLink, withNegBackend, type GkeWorld } from "../support/rest-standins/world";

const fastRetry = { retries: 1, initialDelayMs: 5, maxDelayMs: 10 };
let standins: ComputeStandin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((s) => s.close()));
  standins = [];
});

const otherUid = "a41f09c3d2e87b15";
const otherHash = "m3n8p0qz";

/** The world after `pulumi destroy` removed the cluster but not the controller's load balancer. */
function afterDestroy(world: GkeWorld): GkeWorld {
  const c = world.compute;
  c.instances = [];
  c.instanceGroupMembers = {};
  c.firewalls = c.firewalls.filter((f) => f.name!.startsWith("k8s"));
  // another cluster in the same project, alive, with its own ingress
  const p = world.project;
  const otherBackend = `k8s-be-31500--${otherUid}`;
  const otherLb = `${otherHash}-shop-web-8d2kq7xm`;
  c.forwardingRules.push({ name: `k8s2-fr-${otherLb}`, IPAddress: "34.98.1.2", IPProtocol: "TCP", portRange: "80-80", target: selfLink(p, `global/targetHttpProxies/k8s2-tp-${otherLb}`) });
  c.targetHttpProxies.push({ name: `k8s2-tp-${otherLb}`, urlMap: selfLink(p, `global/urlMaps/k8s2-um-${otherLb}`) });
  c.urlMaps.push({ name: `k8s2-um-${otherLb}`, defaultService: selfLink(p, `global/backendServices/${otherBackend}`) });
  c.backendServices.push({ name: otherBackend, backends: [] });
  c.healthChecks.push({ name: otherBackend, type: "HTTP" });
  c.instanceGroups.push({ name: `k8s-ig--${otherUid}`, zone: selfLink(p, "zones/us-central1-b"), selfLink: selfLink(p, `zones/us-central1-b/instanceGroups/k8s-ig--${otherUid}`) });
  c.firewalls.push({ name: `k8s-fw-l7--${otherUid}`, direction: "INGRESS", sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"] });
  // resources nobody's ingress controller made
  c.backendServices.push({ name: "web-backend", backends: [] });
  c.healthChecks.push({ name: "web-hc", type: "HTTP" });
  c.firewalls.push({ name: "default-allow-ssh", direction: "INGRESS", sourceRanges: ["35.235.240.0/20"] });
  return world;
}

async function serve(world: GkeWorld, extra: Partial<ComputeStandinOptions> = {}): Promise<ComputeStandin> {
  const standin = await startComputeStandin(world.compute, { token: world.token, pageSize: 2, ...extra });
  standins.push(standin);
  return standin;
}

function sweepOpts(world: GkeWorld, standin: ComputeStandin, uid?: string, providerUid?: string) {
  return { uid, providerUid, rootUrl: `${standin.url}/`, accessToken: world.token, retry: fastRetry, progress: silentProgress };
}

describe("sweepProject", () => {
  test("with --uid: exactly this cluster's leftovers, in deletion order, frontends tied through their links", async () => {
    const world = afterDestroy(withNegBackend(buildWorld()));
    const standin = await serve(world);
    // provider-uid = uid: the controller's default (cmd/glbc/app/namer.go getFirewallName)
    const result = await sweepProject(world.project, sweepOpts(world, standin, world.ingressUid, world.ingressUid));
    const neg = world.compute.networkEndpointGroups[0].name!;
    expect(result.problems).toEqual([]);
    expect(result.complete).toBe(true);
    expect(result.leftovers.map((l) => [l.kind, l.name, l.zone, l.match])).toEqual([
      ["forwardingRule", world.names.forwardingRule, undefined, "linked"],
      ["targetHttpProxy", world.names.targetProxy, undefined, "linked"],
      ["urlMap", world.names.urlMap, undefined, "linked"],
      ["backendService", world.names.backendService, undefined, "uid"],
      ["backendService", world.names.defaultHttpBackend, undefined, "uid"],
      ["backendService", neg, undefined, "uid"],
      ["healthCheck", world.names.backendService, undefined, "uid"],
      ["healthCheck", world.names.defaultHttpBackend, undefined, "uid"],
      ["healthCheck", neg, undefined, "uid"],
      ["instanceGroup", world.names.instanceGroup, world.zone, "uid"],
      ["networkEndpointGroup", neg, world.zone, "uid"],
      ["firewall", world.names.firewall, undefined, "uid"],
    ]);
    expect(result.leftovers.every((l) => !l.possiblyOtherCluster)).toBe(true);
    // the other cluster's 7 resources are counted, not listed
    expect(result.otherClusters).toBe(7);
    expect(sweepExitCode(result)).toBe(1);
    // the lists were filtered server-side and paged (page size 2)
    expect(standin.requests.filter((r) => r.path.endsWith("/global/backendServices")).length).toBeGreaterThan(1);
    expect(standin.requests.every((r) => r.query.get("filter") === 'name eq "k8s.*"')).toBe(true);
    expect(standin.requests.some((r) => r.path.endsWith("/aggregated/instanceGroups"))).toBe(true);

    const commands = deleteCommands(world.project, result.leftovers);
    expect(commands[0]).toBe(`gcloud compute forwarding-rules delete ${world.names.forwardingRule} --global --project ${world.project}`);
    expect(commands).toContain(`gcloud compute instance-groups unmanaged delete ${world.names.instanceGroup} --zone ${world.zone} --project ${world.project}`);
    expect(commands).toContain(`gcloud compute network-endpoint-groups delete ${neg} --zone ${world.zone} --project ${world.project}`);
    expect(commands[commands.length - 1]).toBe(`gcloud compute firewall-rules delete ${world.names.firewall} --project ${world.project}`);
    const position = (what: string) => commands.findIndex((c) => c.startsWith(`gcloud compute ${what} `));
    expect(position("forwarding-rules")).toBeLessThan(position("target-http-proxies"));
    expect(position("target-http-proxies")).toBeLessThan(position("url-maps"));
    expect(position("url-maps")).toBeLessThan(position("backend-services"));
    expect(position("backend-services")).toBeLessThan(position("health-checks"));
    expect(position("health-checks")).toBeLessThan(position("instance-groups"));
  });

  test("provider-uid differs from uid: --uid alone lists the L7 firewall rules as owner unknown; with --provider-uid, ours is ours", async () => {
    const providerUid = "c0ffee5ba11ad042";
    const world = afterDestroy(buildWorld());
    const ours = world.compute.firewalls.find((f) => f.name === world.names.firewall)!;
    ours.name = `k8s-fw-l7--${providerUid}`;
    ours.selfLink = selfLink(world.project, `global/firewalls/${ours.name}`);
    const standin = await serve(world);

    const uidOnly = await sweepProject(world.project, sweepOpts(world, standin, world.ingressUid));
    const firewalls = uidOnly.leftovers.filter((l) => l.kind === "firewall");
    // Not taken for another cluster's: both listed, owner unknown.
    expect(firewalls.map((l) => [l.name, l.match, l.possiblyOtherCluster]).sort()).toEqual([
      [`k8s-fw-l7--${otherUid}`, "naming-scheme", true],
      [`k8s-fw-l7--${providerUid}`, "naming-scheme", true],
    ]);
    expect(uidOnly.otherClusters).toBe(6);
    const text = renderSweepText(uidOnly);
    expect(text).toContain(`k8s-fw-l7--${providerUid}  [owner unknown: named after a provider-uid; see below]`);
    expect(text).toMatch(/Pass --provider-uid/);

    const both = await sweepProject(world.project, sweepOpts(world, standin, world.ingressUid, providerUid));
    expect(both.leftovers.filter((l) => l.kind === "firewall").map((l) => [l.name, l.match, l.possiblyOtherCluster])).toEqual([
      [`k8s-fw-l7--${providerUid}`, "provider-uid", false],
    ]);
    expect(both.otherClusters).toBe(7);
    expect(renderSweepText(both)).toContain(`(provider-uid ${providerUid})`);
    expect(deleteCommands(world.project, both.leftovers).at(-1)).toBe(`gcloud compute firewall-rules delete k8s-fw-l7--${providerUid} --project ${world.project}`);
  });

  test("without --uid: everything named like the controller's, flagged as possibly another cluster's", async () => {
    const world = afterDestroy(buildWorld());
    const standin = await serve(world);
    const result = await sweepProject(world.project, sweepOpts(world, standin));
    const names = result.leftovers.map((l) => l.name);
    expect(names).toContain(`k8s-ig--${otherUid}`);
    expect(names).toContain(world.names.forwardingRule);
    expect(names).not.toContain("web-backend");
    expect(names).not.toContain("default-allow-ssh");
    expect(result.leftovers).toHaveLength(9 + 7);
    expect(result.leftovers.every((l) => l.possiblyOtherCluster && l.match === "naming-scheme")).toBe(true);
    expect(sweepExitCode(result)).toBe(1);
  });

  test("a clean project: nothing left, exit 0", async () => {
    const world = buildWorld();
    for (const key of ["forwardingRules", "targetHttpProxies", "urlMaps", "backendServices", "healthChecks", "instanceGroups", "firewalls"] as const) {
      (world.compute[key] as unknown[]) = [];
    }
    const standin = await serve(world);
    const result = await sweepProject(world.project, sweepOpts(world, standin, world.ingressUid));
    expect(result.leftovers).toEqual([]);
    expect(sweepExitCode(result)).toBe(0);
  });

  test("a list that fails makes the sweep incomplete: exit 2 when nothing else was found", async () => {
    const world = buildWorld();
    for (const key of ["forwardingRules", "targetHttpProxies", "urlMaps", "backendServices", "instanceGroups", "firewalls"] as const) {
      (world.compute[key] as unknown[]) = [];
    }
    world.compute.healthChecks = [];
    const standin = await serve(world, { deniedPermissions: ["compute.healthChecks.list"] });
    const result = await sweepProject(world.project, sweepOpts(world, standin, world.ingressUid));
    expect(result.complete).toBe(false);
    expect(result.problems.map((p) => p.message)).toEqual([expect.stringContaining("compute.healthChecks.list")]);
    expect(sweepExitCode(result)).toBe(2);
  });
});

describe("classification", () => {
  test("uid suffix, NEG prefix, truncated names", () => {
    const uid = "5d2c8f3a91b04e76";
    expect(carriesUid(`k8s-be-30080--${uid}`, uid)).toBe(true);
    expect(carriesUid(`k8s-be-30080--${otherUid}`, uid)).toBe(false);
    expect(carriesUid(`k8s1-5d2c8f3a-default-hello-80-9f2c1d7e`, uid)).toBe(true);
    expect(carriesUid(`k8s1-a41f09c3-default-hello-80-9f2c1d7e`, uid)).toBe(false);
    // a v1 frontend cut to 62 chars plus the namer's "0"
    const long = `k8s-um-some-very-long-namespace-a-very-long-ingress-nam--5d2c80`;
    expect(long.length).toBe(63);
    expect(carriesUid(long, uid)).toBe(true);
    expect(carriesUid(`k8s-um-default-x--5d2c8`, uid)).toBe(false);
    expect(carriesUid(`k8s2-fr-tq8v0zk3-default-hello-4wlhd1q9`, "tq8v0zk3")).toBe(true);
    expect(carriesUid("gke-ingress-path-7c9e1b2a-ssh", uid)).toBe(false);
  });

  test("a v2 redirect URL map shares the hash of a linked frontend", () => {
    const { leftovers } = classifyLeftovers(
      [
        { kind: "backendService", name: "k8s-be-30080--5d2c8f3a91b04e76", links: [] },
        { kind: "urlMap", name: "k8s2-um-tq8v0zk3-default-hello-4wlhd1q9", links: ["k8s-be-30080--5d2c8f3a91b04e76"] },
        { kind: "urlMap", name: "k8s2-rm-tq8v0zk3-default-hello-4wlhd1q9", links: [] },
        { kind: "urlMap", name: "k8s2-um-zzzzzzzz-default-hello-4wlhd1q9", links: ["k8s-be-1--other0000000000"] },
      ],
      "5d2c8f3a91b04e76",
    );
    expect(leftovers.map((l) => l.name)).toEqual(["k8s2-rm-tq8v0zk3-default-hello-4wlhd1q9", "k8s2-um-tq8v0zk3-default-hello-4wlhd1q9", "k8s-be-30080--5d2c8f3a91b04e76"]);
  });

  test("deletion order puts dependents first", () => {
    expect(deletionOrder.indexOf("forwardingRule")).toBe(0);
    expect(deletionOrder.indexOf("urlMap")).toBeLessThan(deletionOrder.indexOf("backendService"));
    expect(deletionOrder.indexOf("backendService")).toBeLessThan(deletionOrder.indexOf("healthCheck"));
    expect(deletionOrder.indexOf("healthCheck")).toBeLessThan(deletionOrder.indexOf("instanceGroup"));
  });
});

describe("sweep CLI", () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
  }

  test("--json prints one object with leftovers and commands; exit 1", async () => {
    const world = afterDestroy(buildWorld());
    const standin = await serve(world);
    const { out, io } = capture();
    const code = await runSweepCli(["--project", world.project, "--uid", world.ingressUid, "--provider-uid", world.ingressUid, "--json"], { ...io, rootUrl: `${standin.url}/`, accessToken: world.token, retry: fastRetry });
    expect(code).toBe(1);
    const parsed = JSON.parse(out.join(""));
    expect(parsed.exitCode).toBe(1);
    expect(parsed.providerUid).toBe(world.ingressUid);
    expect(parsed.leftovers).toHaveLength(9);
    expect(parsed.commands[0]).toMatch(/^gcloud compute forwarding-rules delete k8s2-fr-/);
  });

  test("text output lists, flags and orders; project from the default when --project is absent", async () => {
    const world = afterDestroy(buildWorld());
    const standin = await serve(world);
    const { out, io } = capture();
    const code = await runSweepCli([], { ...io, rootUrl: `${standin.url}/`, accessToken: world.token, retry: fastRetry, defaultProject: async () => world.project });
    expect(code).toBe(1);
    const text = out.join("");
    expect(text).toContain(`16 GKE ingress leftover(s) in project ${world.project} for any cluster (no --uid given)`);
    expect(text).toContain("[possibly another cluster's]");
    expect(text.indexOf("forwarding-rules delete")).toBeLessThan(text.indexOf("firewall-rules delete"));
  });

  test("bad arguments and a missing project exit 2 with the reason", async () => {
    const bad = capture();
    expect(await runSweepCli(["--uid"], bad.io)).toBe(2);
    expect(bad.err.join("")).toContain("--uid needs a value");
    const unknown = capture();
    expect(await runSweepCli(["--zone", "x"], unknown.io)).toBe(2);
    expect(unknown.err.join("")).toContain("sweep: error: unknown option --zone");
    expect(unknown.err.join("")).toContain('sweep: error: unexpected argument "x": this command takes options only');
    const noProject = capture();
    expect(await runSweepCli([], { ...noProject.io, defaultProject: async () => undefined })).toBe(2);
    expect(noProject.err.join("")).toContain("no project: pass --project");
    expect(parseSweepArgs(["--project=Bad_Project"])).toMatch(/not a Google Cloud project ID/);
    // One mistake does not hide the others.
    const several = capture();
    expect(await runSweepCli(["--project", "Bad_P", "--uid", "X", "--json=yes", "--zone"], several.io)).toBe(2);
    expect(several.err.join("").trimEnd().split("\n")).toEqual([
      'sweep: error: --project "Bad_P" is not a Google Cloud project ID (6-30 characters: lowercase',
      "  letters, digits, hyphens)",
      'sweep: error: --uid "X" is not an ingress uid (lowercase letters and digits, e.g. 5d2c8f3a91b04e76)',
      'sweep: error: --json takes no value, got "--json=yes"',
      "sweep: error: unknown option --zone",
      "sweep: see npm run sweep -- --help",
    ]);
    expect(parseSweepArgs(["--project", "--json"])).toBe("--project needs a value, e.g. --project my-project-123");
    expect(parseSweepArgs(["--uid", "5d2c8f3a91b04e76", "--provider-uid", "c0ffee5ba11ad042"])).toMatchObject({ uid: "5d2c8f3a91b04e76", providerUid: "c0ffee5ba11ad042" });
    expect(parseSweepArgs(["--provider-uid", "c0ffee5ba11ad042"])).toMatch(/--provider-uid only narrows --uid/);
    expect(parseSweepArgs(["--uid", "5d2c8f3a91b04e76", "--provider-uid", "NOPE"])).toMatch(/--provider-uid "NOPE" is not an ingress uid/);
    const help = capture();
    expect(await runSweepCli(["--help"], help.io)).toBe(0);
    expect(help.out.join("")).toMatch(/^exit codes:\n {2}0 {2}nothing left\n {2}1 {2}leftovers found\n {2}2 {2}could not check/m);
  });
});
