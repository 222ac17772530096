// NEGs in a snapshot folder (design.md, "contract: snapshot, NEGs"): recorded from the REST
// stand-ins through the official clients (listNetworkEndpoints saved with the NEG's link), judged
// offline the same as live; and gcloud's list-network-endpoints output, which names no NEG, read
// by its file name.
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckResult } from "../../verifier/model";
import { readSnapshotFolder } from "../../verifier/snapshot/folder";
import { SnapshotRecorder } from "../../verifier/snapshot/record";
import { verifyLiveIngress, verifySnapshot } from "../../verifier/snapshot/run";
import { loadLiveSources, type GkeSources } from "../../verifier/verify";
import { startComputeStandin } from "../support/rest-standins/compute";
import { startKubeStandin } from "../support/rest-standins/kube";
import { buildWorld, withNegBackend, type GkeWorld } from "../support/rest-standins/world";

jest.setTimeout(60_000);

const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.verdict]));
const base = { requests: 0, timeoutMs: 5000 };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const files = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(dir, f)).isFile());

async function record(world: GkeWorld) {
  const compute = await startComputeStandin(world.compute, { token: world.token });
  const kube = await startKubeStandin(world.kube, { token: world.token });
  const out = mkdtempSync(join(tmpdir(), "gip-neg-snapshot-"));
  dirs.push(out);
  try {
    const live = await loadLiveSources();
    const sources: GkeSources = { ...live, collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl: `${compute.url}/` }) };
    const cluster = { access: { server: kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName };
    const opts = { ...base, ingress: { namespace: world.namespace, name: world.ingressName }, accessToken: world.token, noSsh: "--no-ssh was given" };
    const recorded = await verifyLiveIngress(cluster, opts, undefined, new SnapshotRecorder(out), sources);
    return { recorded, out };
  } finally {
    await compute.close();
    await kube.close();
  }
}

test("a NEG world recorded and judged offline: the NEGs, their endpoints, svcneg and the gates come back; same verdicts", async () => {
  const world = withNegBackend(buildWorld());
  const { recorded, out } = await record(world);
  const endpointsFile = files(out).find((f) => f.endsWith("listNetworkEndpoints.json"))!;
  expect(JSON.parse(readFileSync(join(out, endpointsFile), "utf8")).networkEndpointGroup).toMatch(/\/zones\/us-central1-a\/networkEndpointGroups\/k8s1-/);
  const offline = await verifySnapshot(out, { ...base, ingress: { namespace: world.namespace, name: world.ingressName } });
  expect(verdicts(recorded.results)).toMatchObject({ C1: "pass", C10: "pass", C11: "pass" });
  expect(verdicts(offline.results)).toEqual(verdicts(recorded.results));
  expect(offline.model.loadBalancer?.networkEndpointGroups).toEqual(recorded.model.loadBalancer?.networkEndpointGroups);
  expect(offline.model.kubernetes?.svcNegs).toEqual(recorded.model.kubernetes?.svcNegs);
  expect(offline.model.kubernetes?.pods.map((p) => p.conditions)).toEqual(recorded.model.kubernetes?.pods.map((p) => p.conditions));
});

test("gcloud's list-network-endpoints output (no NEG named inside) is read by the file's name; without a matching name it is a warning and C10 cannot tell", async () => {
  const world = withNegBackend(buildWorld());
  const { out } = await record(world);
  const endpointsFile = files(out).find((f) => f.endsWith("listNetworkEndpoints.json"))!;
  const api = JSON.parse(readFileSync(join(out, endpointsFile), "utf8")) as { items: unknown[] };
  rmSync(join(out, endpointsFile));
  const neg = world.compute.networkEndpointGroups[0]!.name!;
  writeFileSync(join(out, `${neg}.endpoints.json`), JSON.stringify(api.items, null, 1) + "\n");
  const named = await verifySnapshot(out, { ...base, ingress: { namespace: world.namespace, name: world.ingressName } });
  expect(verdicts(named.results).C10).toBe("pass");
  renameSync(join(out, `${neg}.endpoints.json`), join(out, "endpoints.json"));
  expect(readSnapshotFolder(out).warnings.map((w) => `${w.file}: ${w.message}`).join("\n")).toContain("endpoints.json: network endpoints that name no NEG");
  const unnamed = await verifySnapshot(out, { ...base, ingress: { namespace: world.namespace, name: world.ingressName } });
  expect(verdicts(unnamed.results).C10).toBe("cannot-tell");
  expect(unnamed.results.find((r) => r.id === "C10")!.summary).toContain("gcloud compute network-endpoint-groups list-network-endpoints");
});
