// What a snapshot folder lacks is said as "not in the folder", never FAIL; the exit reason names the
// most useful missing piece first; a deleted health check makes C11 cannot-tell naming it; an
// UNHEALTHY backend without node files says which node files would explain it and how to save them.
// Folders are recorded from the REST stand-ins through the official clients, then judged offline.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Problem } from "../../verifier/model";
import { SnapshotRecorder } from "../../verifier/snapshot/record";
import { snapshotProgress, verifyLiveIngress, verifySnapshot } from "../../verifier/snapshot/run";
import { MISSING_MARK, missingTag, type MissingObject } from "../../verifier/snapshot/transport";
import type { Progress } from "../../verifier/sources/types";
import { loadLiveSources, rankProblems, type GkeSources } from "../../verifier/verify";
import { renderTerminal } from "../../verifier/report/terminal";
import { startComputeStandin } from "../support/rest-standins/compute";
import { startKubeStandin } from "../support/rest-standins/kube";
import { buildWorld, withUnhealthyNode, type GkeWorld } from "../support/rest-standins/world";

jest.setTimeout(60_000);

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));
const base = { requests: 0, timeoutMs: 5000 };

/** Records the world's Ingress into a new folder (no node files: --no-ssh), as `npm run snapshot` does. */
async function record(world: GkeWorld, source?: "stack" | "ingress", progress?: Progress): Promise<string> {
  const compute = await startComputeStandin(world.compute, { token: world.token });
  const kube = await startKubeStandin(world.kube, { token: world.token });
  const out = mkdtempSync(join(tmpdir(), "gip-wording-"));
  tmp.push(out);
  try {
    const live = await loadLiveSources();
    const sources: GkeSources = { ...live, collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl: `${compute.url}/` }) };
    const recorder = new SnapshotRecorder(out);
    if (source) recorder.meta.source = source;
    const cluster = { access: { server: kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName };
    await verifyLiveIngress(cluster, { ...base, ingress: { namespace: world.namespace, name: world.ingressName }, accessToken: world.token, noSsh: "--no-ssh was given" }, progress, recorder, sources);
    return out;
  } finally {
    await compute.close();
    await kube.close();
  }
}

/** Judges a folder, keeping the progress lines as the CLI prints them. */
async function judge(dir: string, world: GkeWorld) {
  const lines: string[] = [];
  const progress: Progress = { hop: (name, state, detail) => state !== "start" && lines.push(`${state === "ok" ? "ok  " : state === "fail" ? "FAIL" : "skip"} ${name}${detail ? `: ${detail}` : ""}`) };
  const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: world.namespace, name: world.ingressName } }, progress);
  return { outcome, lines };
}

const balanced = (text: string) => [...text].reduce((depth, c) => (depth < 0 ? depth : depth + (c === "(" ? 1 : c === ")" ? -1 : 0)), 0) === 0;

test("a folder without node files: no FAIL line; node files said as not in the folder; the exit reason names them first", async () => {
  const world = buildWorld();
  const dir = await record(world);
  const { outcome, lines } = await judge(dir, world);
  expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([]);
  expect(lines).toContain(`skip node files: 0/${world.kube.nodes.length} nodes have files under nodes/<node>/; not in the folder for ${world.kube.nodes.length} nodes`);
  expect(outcome.exitCode).toBe(2);
  expect(outcome.reason).toMatch(/^could not verify [C0-9, ]+: snapshot \([^)]+\): no node files for <node> in the folder /);
});

test("missing node files are the folder's gap, not SSH's: source snapshot, and each claim names the nodes once and no file", async () => {
  const world = buildWorld();
  const dir = await record(world);
  const { outcome } = await judge(dir, world);
  const nodes = world.kube.nodes.map((n) => n.metadata!.name!);
  const text = renderTerminal(outcome.model, outcome.results, { width: Infinity });
  // the label of a problem or a reason ("- ssh node:", "ssh: ...", "ssh (nodes)"), not gcloud compute ssh in a hint
  expect(text).not.toMatch(/- ssh |\bssh: |\bssh \(/);
  // the files are named on one line per node: its problem (with the command that saves them)
  for (const n of nodes) expect(text.split("\n").filter((l) => l.includes(`nodes/${n}/iptables-save.txt`))).toEqual([expect.stringMatching(new RegExp(`^  - snapshot ${n}: no node files for ${n} in the folder`))]);
  for (const id of ["C2", "C3", "C4", "C5", "C6", "C7"]) {
    const summary = outcome.results.find((r) => r.id === id)!.summary;
    expect(summary).not.toContain("iptables-save.txt");
    for (const n of nodes) expect(summary.split(n).length - 1).toBe(1);
  }
});

test("the events missing from a folder, needed for the Ingress and the Service: one skip line, one problem line naming both", async () => {
  const world = buildWorld();
  const dir = await record(world);
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.includes("_events") && statSync(join(dir, f)).isFile());
  expect(files.length).toBe(2);
  // without snapshot.json (as in a hand-made folder) an absent list is unknown, not empty
  for (const f of [...files, "snapshot.json"]) rmSync(join(dir, f));
  const { outcome, lines } = await judge(dir, world);
  expect(lines.filter((l) => l.includes("events"))).toEqual([`skip events: not in the folder: kubernetes events in ${world.namespace}`]);
  const text = renderTerminal(outcome.model, outcome.results, { width: Infinity });
  const problems = text.split("\n").filter((l) => l.includes(`kubernetes events in ${world.namespace} is not in the snapshot folder`));
  expect(problems).toEqual([expect.stringMatching(new RegExp(`^  - kubernetes Ingress ${world.namespace}/${world.ingressName}, Service ${world.namespace}/\\S+: `))]);
});

test("npm run snapshot with SSH, a node not read: its progress line sends the reader to snapshot.json, which says why (no report is printed)", async () => {
  const world = buildWorld();
  const compute = await startComputeStandin(world.compute, { token: world.token });
  const kube = await startKubeStandin(world.kube, { token: world.token });
  const out = mkdtempSync(join(tmpdir(), "gip-wording-"));
  tmp.push(out);
  const lines: string[] = [];
  try {
    const live = await loadLiveSources();
    // No socket to a node: the SSH source is a stand-in that reads every node but the first.
    const sources: GkeSources = {
      ...live,
      collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl: `${compute.url}/` }),
      fetchHostKeys: async () => new Map(),
      fetchConsoleHostKeys: async () => new Map(),
      collectNodes: async (targets) => ({
        nodes: targets.slice(1).map((t) => ({ name: t.name, transport: "direct" as const, reachable: true })),
        problems: [{ source: "ssh" as const, subject: targets[0]!.name, message: `connect ETIMEDOUT ${targets[0]!.externalIp ?? "?"}:22` }],
      }),
    };
    const recorder = new SnapshotRecorder(out);
    const cluster = { access: { server: kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName };
    const progress: Progress = { hop: (name, state, detail) => state !== "start" && lines.push(`${state} ${name}${detail ? `: ${detail}` : ""}`) };
    await verifyLiveIngress(cluster, { ...base, ingress: { namespace: world.namespace, name: world.ingressName }, accessToken: world.token, ssh: { user: "root", privateKey: "not-a-key", transport: "direct" } }, progress, recorder, sources);
  } finally {
    await compute.close();
    await kube.close();
  }
  const first = world.kube.nodes[0]!.metadata!.name!;
  const ssh = lines.find((l) => l.includes("nodes over SSH"))!;
  expect(ssh).toContain(`not read: ${first} (snapshot.json says why: nodes[].problem)`);
  expect(ssh).not.toContain("the problems say why");
  const meta = JSON.parse(readFileSync(join(out, "snapshot.json"), "utf8")) as { nodes: { name: string; problem?: string }[] };
  expect(meta.nodes.find((n) => n.name === first)?.problem).toContain("connect ETIMEDOUT");
});

test("npm run snapshot --no-ssh: no node is read by choice, said once as a skip, never FAIL", async () => {
  const lines: string[] = [];
  await record(buildWorld(), undefined, { hop: (name, state, detail) => state !== "start" && lines.push(`${state} ${name}${detail ? `: ${detail}` : ""}`) });
  expect(lines.filter((l) => l.startsWith("fail"))).toEqual([]);
  expect(lines.filter((l) => /node host keys|nodes over SSH/.test(l))).toEqual(["skip nodes over SSH: not read: --no-ssh was given"]);
});

test("a deleted health check: its progress line in the folder's words, brackets closed; C11 cannot tell naming it; no 'nothing broken'", async () => {
  const world = buildWorld();
  const dir = await record(world);
  const hcName = world.compute.healthChecks[0]!.name;
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.includes("healthChecks") && statSync(join(dir, f)).isFile());
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) rmSync(join(dir, f));
  const { outcome, lines } = await judge(dir, world);
  const hcLine = lines.find((l) => l.includes("health check"))!;
  expect(hcLine).toMatch(new RegExp(`^skip health check: not in the folder: compute healthChecks/${hcName} \\(global\\)$`));
  expect(hcLine).not.toMatch(/gone|404|snapshot-missing/);
  for (const l of lines) expect({ l, balanced: balanced(l) }).toEqual({ l, balanced: true });
  expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([]);
  const c11 = outcome.results.find((r) => r.id === "C11")!;
  expect(c11.verdict).toBe("cannot-tell");
  expect(c11.summary).toContain(`health check ${hcName}`);
  expect(c11.summary).toContain("not in the snapshot folder");
});

test.each([
  ["a hand-made folder", undefined, /gcloud compute ssh \S+ --zone \S+ --project \S+ --tunnel-through-iap --command 'sudo iptables-save' > \S+\/nodes\/\S+\/iptables-save\.txt/],
  ["a folder of the program's stack", "stack" as const, /npm run snapshot -- --out \S+-nodes \(in the stack's directory, without --no-ssh/],
])("an UNHEALTHY backend in %s without node files: which node files, and the command that saves them", async (_what, source, command) => {
  const world = withUnhealthyNode(buildWorld(), 1);
  const dir = await record(world, source);
  const { outcome } = await judge(dir, world);
  expect(outcome.exitCode).toBe(1);
  const node = world.kube.nodes[1]!.metadata!.name!;
  const cause = outcome.diagnosis.find((d) => d.claims?.includes("C11"))!;
  expect(cause).toMatchObject({ hop: "node", subject: node, cause: "unexplained" });
  expect(cause.summary).toContain(`the folder has no node files for it`);
  expect(cause.fix).toContain(`under nodes/${node}/`);
  expect(cause.fix).toMatch(command);
  expect(cause.fix).not.toMatch(/report it/);
});

describe("snapshotProgress", () => {
  test("one object missing for two reads (the Ingress's and the Service's events) is one skip line and one gap", () => {
    const lines: string[] = [];
    const missing: MissingObject[] = [{ what: "kubernetes events in study", command: "kubectl get events -n study -o yaml > events.yaml" }];
    const p = snapshotProgress({ hop: (name, state, detail) => lines.push(`${state} ${name}${detail ? `: ${detail}` : ""}`) }, missing);
    for (const kind of ["Ingress", "Service"]) p.hop("events", "fail", `kubernetes: events: ${kind} study/hello: kubernetes events in study is ${MISSING_MARK} ${missingTag(0)}`);
    p.hop("kubernetes API", "fail", "3 nodes, 2 pods");
    expect(lines).toEqual(["skip events: not in the folder: kubernetes events in study", "ok kubernetes API: 3 nodes, 2 pods; 1 object not in the folder (above)"]);
  });

  test("gaps are skips naming the object; a summary hop whose only failures are gaps is ok; a real failure stays FAIL", () => {
    const lines: string[] = [];
    const missing: MissingObject[] = [{ what: "kubernetes events in study", command: "kubectl get events -n study -o yaml > events.yaml" }];
    const p = snapshotProgress({ hop: (name, state, detail) => lines.push(`${state} ${name}${detail ? `: ${detail}` : ""}`) }, missing);
    p.hop("events", "fail", `kubernetes: events: Not Found: kubernetes events in study is ${MISSING_MARK} ${missingTag(0)}`);
    p.hop("kubernetes API", "fail", "3 nodes, 2 pods");
    p.hop("backend service", "fail", "permission denied (403)");
    p.hop("load balancer (Compute API)", "fail", "k8s2-fr-x 1.2.3.4");
    p.hop("nodes over SSH", "fail", "1/3 nodes read over SSH (iap)");
    expect(lines).toEqual([
      "skip events: not in the folder: kubernetes events in study",
      "ok kubernetes API: 3 nodes, 2 pods; 1 object not in the folder (above)",
      "fail backend service: permission denied (403)",
      "fail load balancer (Compute API): k8s2-fr-x 1.2.3.4",
      "ok node files: 1/3 nodes have files under nodes/<node>/; not in the folder for 2 nodes",
    ]);
  });
});

test("rankProblems: the problem most cannot-tell claims quote first; same message per node in one line", () => {
  const node = (n: string): Problem => ({ source: "ssh", subject: n, message: `the snapshot has no node files for ${n} (nodes/${n}/iptables-save.txt)` });
  const problems: Problem[] = [{ source: "kubernetes", message: "kubernetes daemonsets in kube-system is not in the snapshot folder" }, node("n-1"), node("n-2")];
  const quoting = (id: "C2" | "C3") => ({ id, claim: "", verdict: "cannot-tell" as const, summary: `Cannot tell: ssh: ${problems[1]!.message}`, evidence: [] });
  expect(rankProblems(problems, [quoting("C2"), quoting("C3")])).toEqual([
    "ssh (n-1, n-2): the snapshot has no node files for <node> (nodes/<node>/iptables-save.txt)",
    "kubernetes: kubernetes daemonsets in kube-system is not in the snapshot folder",
  ]);
  expect(rankProblems([node("n-1")], [])).toEqual(["ssh: the snapshot has no node files for n-1 (nodes/n-1/iptables-save.txt)"]);
  // a claim that refers to a problem by its brief, naming its subject, counts as quoting it
  const brief = (n: string): Problem => ({ source: "snapshot", subject: n, message: `no node files for ${n} in the folder (nodes/${n}/iptables-save.txt)`, brief: "no node files in the folder" });
  const referring = (id: "C2" | "C3") => ({ id, claim: "", verdict: "cannot-tell" as const, summary: "Cannot tell: n-1, n-2: no node files in the folder", evidence: [] });
  expect(rankProblems([problems[0]!, brief("n-1"), brief("n-2")], [referring("C2"), referring("C3")])[0]).toBe("snapshot (n-1, n-2): no node files for <node> in the folder (nodes/<node>/iptables-save.txt)");
});
