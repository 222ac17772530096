// `npm run verify` against a stand-in world without SSH: the live Compute and Kubernetes sources
// (official clients, real HTTP) read the stand-ins; the nodes are not read (their claims are
// cannot-tell), no request is sent. Returns the JSON report as `verify --json` prints it.
import { verifyGke, type GkeSources } from "../../../verifier/verify";
import { renderJson } from "../../../verifier/report/json";
import type { Diagnosis, LoadBalancerModel } from "../../../verifier/model";
import { outputsFor, sourcesAgainst, startStandins } from "../../e2e/gke-on-lab";
import type { GkeWorld } from "./world";

export interface WorldReport {
  outcome: { exitCode: number; reason: string };
  checks: { id: string; verdict: string; summary: string; evidence: { source: string; detail: string }[] }[];
  diagnosis: Diagnosis[];
  model: { loadBalancer?: LoadBalancerModel };
  /** "METHOD /compute/v1/projects/..." for every Compute request, in order */
  computePaths: string[];
}

export async function verifyWorld(world: GkeWorld, location = world.zone): Promise<WorldReport> {
  const standins = await startStandins(world);
  try {
    const live = await sourcesAgainst(standins.compute.url);
    const sources: GkeSources = {
      ...live,
      fetchHostKeys: async (_p, instances) => new Map(instances.map((i) => [i.name, []])),
      collectNodes: async (targets) => ({ nodes: [], problems: targets.map((t) => ({ source: "ssh" as const, subject: t.name, message: "not read: this test has no SSH" })) }),
    };
    const outputs = { ...outputsFor(world, standins.kube.url, `http://${world.loadBalancerIp}/`, "not-a-key"), location };
    const outcome = await verifyGke(outputs, { requests: 0, keepAlive: false, transport: "direct", timeoutMs: 4000, accessToken: world.token }, undefined, sources);
    const report = JSON.parse(renderJson(outcome.model, outcome.results, { outcome: { exitCode: outcome.exitCode, reason: outcome.reason } })) as Omit<WorldReport, "computePaths">;
    return { ...report, computePaths: standins.compute.requests.map((r) => `${r.method} ${r.path}`) };
  } finally {
    await standins.close();
  }
}
