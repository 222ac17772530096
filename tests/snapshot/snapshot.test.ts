// Snapshot folders: the example (examples/snapshot/healthy-zonal) judged in place with no socket opened, hand-made folders
// (YAML and JSON, Lists, node files) and bad input, and the round trip: record from the REST
// stand-ins through the official clients, then judge offline = the live verdicts.
import * as net from "node:net";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as yaml from "js-yaml";
import { join } from "node:path";
import type { CheckResult } from "../../verifier/model";
import { writeNatRules } from "../../verifier/iptables/kube-proxy-rules";
import { readSnapshotFolder } from "../../verifier/snapshot/folder";
import { NO_NODE_FILES, nodeFiles, nodesFromFolder } from "../../verifier/snapshot/nodes";
import { SnapshotRecorder } from "../../verifier/snapshot/record";
import { IngressInputError, verifyLiveIngress, verifySnapshot } from "../../verifier/snapshot/run";
import { parseIpAddr, parseSsListeners } from "../../verifier/sources/node-outputs";
import { loadLiveSources, type GkeSources, type VerifyOutcome } from "../../verifier/verify";
import { startComputeStandin } from "../support/rest-standins/compute";
import { startKubeStandin } from "../support/rest-standins/kube";
import { buildWorld, withDataplaneV2, withLoadBalancerNotProvisioned, withNegBackend, withUnhealthyNode, type GkeWorld } from "../support/rest-standins/world";

jest.setTimeout(60_000);

/** The repository's hand-made example (examples/snapshot/README.md), read where it is. */
const EXAMPLE = join(__dirname, "../../examples/snapshot/healthy-zonal");
const NODES = ["gke-study-pool-5e1a2b3c-a1b2", "gke-study-pool-5e1a2b3c-c3d4", "gke-study-pool-5e1a2b3c-e5f6"];
const NODE_IPS = ["10.10.0.2", "10.10.0.3", "10.10.0.4"];

const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.verdict]));
const claim = (o: VerifyOutcome, id: string) => o.results.find((r) => r.id === id)!;
const base = { requests: 0, timeoutMs: 5000 };
const tmp: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gip-snapshot-"));
  tmp.push(dir);
  return dir;
}
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Fails the test if anything opens a TCP socket or calls the global fetch while `run` runs. */
async function withoutNetwork<T>(run: () => Promise<T>): Promise<{ value: T; attempts: string[] }> {
  const attempts: string[] = [];
  const connect = jest.spyOn(net.Socket.prototype, "connect").mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    attempts.push(`net.Socket.connect ${JSON.stringify(args[0])}`);
    throw new Error("a socket was opened in snapshot mode");
  });
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: unknown) => {
    attempts.push(`fetch ${String(input)}`);
    throw new Error("fetch was called in snapshot mode");
  }) as typeof fetch;
  try {
    return { value: await run(), attempts };
  } finally {
    connect.mockRestore();
    globalThis.fetch = realFetch;
  }
}

test("the no-network guard catches the live clients (so the snapshot tests' guard can fail)", async () => {
  const world = buildWorld();
  const kube = await startKubeStandin(world.kube, { token: world.token });
  try {
    const { attempts } = await withoutNetwork(() =>
      verifyLiveIngress({ access: { server: kube.url, token: world.token }, project: world.project }, { ...base, ingress: { namespace: "default", name: "hello" }, accessToken: world.token }).catch((e: Error) => e),
    );
    expect(attempts.length).toBeGreaterThan(0);
  } finally {
    await kube.close();
  }
});

describe("the example examples/snapshot/healthy-zonal, read in place", () => {
  test("C9, C10, C11 pass; node claims and C12 cannot tell, naming the files and commands; no file warning; no socket", async () => {
    expect(statSync(EXAMPLE).isDirectory()).toBe(true);
    const { value: outcome, attempts } = await withoutNetwork(() => verifySnapshot(EXAMPLE, { ...base, ingress: { namespace: "study", name: "hello" } }));
    expect(attempts).toEqual([]);
    const v = verdicts(outcome.results);
    expect([v.C9, v.C10, v.C11]).toEqual(["pass", "pass", "pass"]);
    // each claim names the nodes once and refers to the problems, which name the files once
    for (const id of ["C2", "C3", "C4", "C5", "C6", "C7"]) {
      expect(v[id]).toBe("cannot-tell");
      expect(claim(outcome, id).summary).toBe(`Cannot tell: ${NODES.join(", ")}: ${NO_NODE_FILES}`);
      expect(claim(outcome, id).summary).not.toContain("iptables-save.txt");
    }
    expect(v.C12).toBe("cannot-tell");
    expect(claim(outcome, "C12").summary).toMatch(/snapshot holds no requests/);
    // every node's problem names the command that would supply its files
    for (const node of NODES) {
      const p = outcome.model.problems.find((x) => x.source === "snapshot" && x.subject === node)!;
      expect(p.message).toBe(`no node files for ${node} in the folder (nodes/${node}/iptables-save.txt, ip-o-addr-show.txt, ss-Hltnp.txt)`);
      expect(p.hint).toContain(`gcloud compute ssh ${node} --zone europe-west4-a --project my-project --tunnel-through-iap --command 'sudo iptables-save'`);
    }
    expect(outcome.model.problems.filter((p) => p.source === "input")).toEqual([]);
    expect(outcome.model.target.origin).toEqual({ kind: "snapshot", ingress: "study/hello", service: "hello", snapshot: EXAMPLE });
    // the health came from the file named after its backend service
    expect(outcome.model.loadBalancer?.backendServices[0]?.health.map((h) => h.state)).toEqual(["HEALTHY", "HEALTHY", "HEALTHY"]);
  });

  test("without --ingress the folder's only Ingress is judged", async () => {
    const outcome = await verifySnapshot(EXAMPLE, base);
    expect(verdicts(outcome.results).C10).toBe("pass");
  });
});

/** The example copied, so a test can add to it. */
function exampleCopy(): string {
  const dir = tempDir();
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

function writeNodeFiles(dir: string): void {
  const nat = writeNatRules({
    clusterCIDR: "10.20.0.0/14",
    services: [
      {
        namespace: "study", name: "hello", portName: "http", protocol: "tcp", clusterIP: "10.30.0.10", port: 80, nodePort: 30080,
        endpoints: [{ ip: "10.20.0.5", port: 8080, nodeName: NODES[0] }, { ip: "10.20.2.6", port: 8080, nodeName: NODES[2] }],
      },
    ],
  });
  NODES.forEach((node, i) => {
    mkdirSync(join(dir, "nodes", node), { recursive: true });
    writeFileSync(join(dir, "nodes", node, "iptables-save.txt"), `# Generated by iptables-save v1.8.7 on Tue Dec  1 03:00:00 2026\n${nat}`);
    writeFileSync(join(dir, "nodes", node, "ip-o-addr-show.txt"), `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n2: ens4    inet ${NODE_IPS[i]}/32 scope global dynamic ens4\\       valid_lft 3000sec preferred_lft 3000sec\n`);
    writeFileSync(join(dir, "nodes", node, "ss-Hltnp.txt"), `LISTEN 0      4096         0.0.0.0:22        0.0.0.0:* users:(("sshd",pid=812,fd=3))\nLISTEN 0      4096       127.0.0.1:10256     0.0.0.0:* users:(("kube-proxy",pid=1201,fd=9))\n`);
  });
}

describe("hand-made folders", () => {
  test("a folder of several snapshots (one per sub-folder) is refused, naming them, not judged as one cluster", async () => {
    const parent = mkdtempSync(join(tmpdir(), "gip-several-"));
    try {
      // two different clusters' snapshots: the hand-made example and the recorded one
      cpSync(EXAMPLE, join(parent, "shop"), { recursive: true });
      cpSync(join(EXAMPLE, "..", "recorded-zonal"), join(parent, "blog"), { recursive: true });
      await expect(verifySnapshot(parent, base)).rejects.toThrow(/holds 2 snapshots, one per sub-folder \(blog\/, shop\/\).*judge one at a time, e\.g\. --snapshot .*\/blog$/);
      await expect(verifySnapshot(parent, { ...base, ingress: { namespace: "study", name: "hello" } })).rejects.toThrow(IngressInputError);
      // one snapshot's own sub-folders (gcloud/, kubectl/) are one snapshot: judged as before
      const one = await verifySnapshot(join(parent, "shop"), { ...base, ingress: { namespace: "study", name: "hello" } });
      expect(verdicts(one.results).C9).toBe("pass");
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test("node files under nodes/<node>/ are read by the SSH source's parsers: the node claims are judged", async () => {
    const dir = exampleCopy();
    writeNodeFiles(dir);
    const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" } });
    const v = verdicts(outcome.results);
    expect(["C2", "C3", "C4", "C5", "C6", "C7"].map((id) => `${id} ${v[id]}: ${claim(outcome, id).summary}`).filter((s) => !/ pass: /.test(s))).toEqual([]);
    expect(outcome.model.nodes.map((n) => n.nat?.command)).toEqual(NODES.map((n) => `nodes/${n}/iptables-save.txt (iptables-save)`));
  });

  test("a file that is not an API object, cut YAML, a Secret, another project's object: warnings naming the file; the rest judged", async () => {
    const dir = exampleCopy();
    writeFileSync(join(dir, "notes.json"), JSON.stringify({ hello: "world" }));
    writeFileSync(join(dir, "README.txt"), "saved on Monday\n");
    // the firewall in a file whose last document is cut mid-way
    const lb = readFileSync(join(dir, "gcloud/load-balancer.yaml"), "utf8");
    const firewall = lb.slice(lb.indexOf("kind: compute#firewall"), lb.indexOf("---", lb.indexOf("kind: compute#firewall")));
    writeFileSync(join(dir, "gcloud/load-balancer.yaml"), lb.replace(/---\nkind: compute#firewall[\s\S]*?(?=---)/, ""));
    writeFileSync(join(dir, "firewall-and-cut.yaml"), `# two documents, the second cut\n${firewall}---\nkind: compute#instance\nname: broken\nnetworkInterfaces:\n- networkIP: "10.0\n  name: [nic0\n`);
    writeFileSync(join(dir, "secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: study}\ndata: {password: c3VwZXItc2VjcmV0}\n");
    writeFileSync(join(dir, "other-project.json"), JSON.stringify([{ kind: "compute#firewall", name: "allow-all", sourceRanges: ["0.0.0.0/0"], selfLink: "https://www.googleapis.com/compute/v1/projects/someone-else/global/firewalls/allow-all" }]));
    const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" } });
    const warnings = outcome.model.problems.filter((p) => p.source === "input").map((p) => p.message);
    expect(warnings.find((w) => w.startsWith("notes.json:"))).toMatch(/not an API object/);
    expect(warnings.find((w) => w.startsWith("README.txt:"))).toMatch(/neither \.json nor \.yaml/);
    expect(warnings.find((w) => w.startsWith("firewall-and-cut.yaml:"))).toMatch(/YAML line \d+/);
    expect(warnings.find((w) => w.startsWith("secret.yaml:"))).toMatch(/a Secret; secrets are never read/);
    expect(warnings.find((w) => w.startsWith("other-project.json:"))).toMatch(/belongs to project someone-else, not my-project/);
    expect(JSON.stringify(outcome)).not.toContain("c3VwZXItc2VjcmV0");
    // the cut file's first document (the firewall) was still read, so C11 is judged
    expect(verdicts(outcome.results)).toMatchObject({ C9: "pass", C10: "pass", C11: "pass" });
  });

  test("a YAML file cut mid-line: its last document is skipped with a warning naming the file, never read as whole", async () => {
    const dir = exampleCopy();
    const lb = readFileSync(join(dir, "gcloud/load-balancer.yaml"), "utf8");
    // cut inside the instance group's name: the document still parses, with a name that is not the group's
    const at = lb.lastIndexOf("name: k8s-ig--") + "name: k8s-ig--3c9a".length;
    writeFileSync(join(dir, "gcloud/load-balancer.yaml"), lb.slice(0, at));
    const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" } });
    const warnings = outcome.model.problems.filter((p) => p.source === "input").map((p) => p.message);
    expect(warnings.find((w) => w.startsWith("gcloud/load-balancer.yaml:"))).toMatch(/ends mid-line, so its last document is cut; it was skipped/);
  });

  test("gcloud and kubectl shapes: typed lists, JSON arrays, get-health arrays with backendService, YAML without selfLink", async () => {
    const dir = tempDir();
    const example = readSnapshotFolder(EXAMPLE);
    const objects = example.kube.map((k) => k.object);
    // kubectl get pods -o json gives a typed PodList whose items carry no kind
    writeFileSync(join(dir, "pods.json"), JSON.stringify({ apiVersion: "v1", kind: "PodList", items: objects.filter((o) => o.kind === "Pod").map(({ kind: _k, apiVersion: _a, ...rest }) => rest) }));
    writeFileSync(join(dir, "rest.json"), JSON.stringify(objects.filter((o) => o.kind !== "Pod")));
    // Compute objects as one JSON array, except the instances: YAML documents without selfLink (zone says where)
    writeFileSync(join(dir, "compute.json"), JSON.stringify(example.compute.filter((c) => c.collection !== "instances").map((c) => c.object)));
    const instances = example.compute.filter((c) => c.collection === "instances").map(({ object: { selfLink: _s, ...rest } }) => rest);
    writeFileSync(join(dir, "instances.yml"), instances.map((o) => `# gcloud compute instances describe ${o.name}\n${yaml.dump(o)}`).join("---\n"));
    const health = example.health[0]!;
    writeFileSync(join(dir, "health.json"), JSON.stringify([{ backendService: health.backendService, backend: health.group, status: health.health }]));
    cpSync(join(EXAMPLE, "gcloud/members.json"), join(dir, "m.json"));
    const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" } });
    expect(outcome.model.problems.filter((p) => p.source === "input")).toEqual([]);
    expect(verdicts(outcome.results)).toMatchObject({ C1: "pass", C8: "pass", C9: "pass", C10: "pass", C11: "pass" });
    expect(outcome.model.loadBalancer?.instances.map((i) => i.internalIp)).toEqual(NODE_IPS);
  });

  test("private nodes and a pod on every node: facts about this cluster, not path failures (C1, C8 pass, saying so)", async () => {
    const dir = exampleCopy();
    const lb = readFileSync(join(dir, "gcloud/load-balancer.yaml"), "utf8");
    writeFileSync(join(dir, "gcloud/load-balancer.yaml"), lb.replace(/  accessConfigs:\n(    .*\n|  - kind: compute#accessConfig\n)+/g, ""));
    const list = JSON.parse(readFileSync(join(dir, "kubectl/objects.json"), "utf8")) as { items: Record<string, any>[] };
    for (const node of list.items.filter((o) => o.kind === "Node")) node.status.addresses = node.status.addresses.filter((a: { type: string }) => a.type !== "ExternalIP");
    const pod = structuredClone(list.items.find((o) => o.kind === "Pod" && o.metadata.namespace === "study")!);
    pod.metadata.name = "hello-6b8f9d7c5-zz9zz";
    pod.spec.nodeName = NODES[1];
    pod.status.podIP = pod.status.podIPs[0].ip = "10.20.1.7";
    list.items.push(pod);
    writeFileSync(join(dir, "kubectl/objects.json"), JSON.stringify(list));
    const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" } });
    expect(outcome.model.loadBalancer?.instances.map((i) => i.externalIp)).toEqual([undefined, undefined, undefined]);
    expect(verdicts(outcome.results)).toMatchObject({ C1: "pass", C8: "pass" });
    expect(claim(outcome, "C1").summary).toMatch(/Fact: all nodes are private \(no external IP; the load balancer reaches nodes on their internal IP, so this is not a fault on the path\)/);
    expect(claim(outcome, "C8").summary).toMatch(/A fact about this cluster, not a path failure: every one of the 3 nodes runs a pod/);
  });

  test("the same Kubernetes object twice with different uids (another cluster): a warning naming both files", async () => {
    const dir = exampleCopy();
    const service = readSnapshotFolder(EXAMPLE).kube.find((k) => k.kind === "Service")!.object as { metadata: Record<string, unknown> };
    writeFileSync(join(dir, "a-service.yaml"), yaml.dump({ ...service, metadata: { ...service.metadata, uid: "aaaa" } }));
    writeFileSync(join(dir, "z-service.yaml"), yaml.dump({ ...service, metadata: { ...service.metadata, uid: "zzzz" } }));
    const warnings = readSnapshotFolder(dir).warnings.map((w) => `${w.file}: ${w.message}`);
    expect(warnings).toEqual(["z-service.yaml: Service study/hello is also in a-service.yaml with another uid (another cluster, or re-created); the one in a-service.yaml is used"]);
  });

  test("a missing object makes its claims cannot-tell, naming the object and the command that supplies it", async () => {
    const dir = exampleCopy();
    rmSync(join(dir, "gcloud/k8s-be-30080--3c9a1f0e7b2d4e61.get-health.json"));
    const outcome = await verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" } });
    expect(verdicts(outcome.results).C11).toBe("cannot-tell");
    const p = outcome.model.problems.find((x) => x.message.includes("getHealth"))!;
    expect(p.message).toContain("compute backendServices/k8s-be-30080--3c9a1f0e7b2d4e61 getHealth for k8s-ig--3c9a1f0e7b2d4e61 (europe-west4-a) is not in the snapshot folder");
    expect(p.hint).toContain("gcloud compute backend-services get-health k8s-be-30080--3c9a1f0e7b2d4e61 --global --project my-project --format=json");
  });

  test("two Ingresses and no --ingress: an error naming both; --service not on the Ingress: an error naming its Services", async () => {
    const dir = exampleCopy();
    const ingress = readSnapshotFolder(EXAMPLE).kube.find((k) => k.kind === "Ingress")!.object as { metadata: Record<string, unknown> };
    writeFileSync(join(dir, "second.json"), JSON.stringify({ ...ingress, metadata: { ...ingress.metadata, name: "api", uid: "other" } }));
    await expect(verifySnapshot(dir, base)).rejects.toThrow(/holds 2 Ingresses \(study\/hello, study\/api\); choose one with --ingress/);
    await expect(verifySnapshot(dir, { ...base, ingress: { namespace: "study", name: "hello" }, service: "web" })).rejects.toThrow(/--service web: Ingress study\/hello routes to hello, not web/);
    await expect(verifySnapshot(join(dir, "nope"), base)).rejects.toThrow(IngressInputError);
  });

  test("nodeFiles writes what nodesFromFolder reads back the same (the SSH parsers' formats)", () => {
    const addresses = parseIpAddr(readFileSync(join(__dirname, "../ssh/fixtures/ip-o-addr.host.txt"), "utf8"));
    const listeners = parseSsListeners(readFileSync(join(__dirname, "../ssh/fixtures/ss-Hltnp.namespace-node.txt"), "utf8"));
    expect(addresses.length).toBeGreaterThan(2);
    const files = nodeFiles({ name: "n1", transport: "iap", reachable: true, nat: { command: "sudo -n iptables-save", backend: "legacy", text: "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n" }, addresses, listeners });
    const dir = tempDir();
    mkdirSync(join(dir, "nodes/n1"), { recursive: true });
    for (const [name, text] of files) writeFileSync(join(dir, "nodes/n1", name), text);
    const back = nodesFromFolder(readSnapshotFolder(dir), [{ name: "n1", address: "n1", hostKeys: [] }], "p");
    expect(back.nodes[0]).toMatchObject({ reachable: true, addresses, listeners, nat: { text: "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n" } });
  });
});

describe("round trip: record from the REST stand-ins, judge offline", () => {
  async function liveSources(computeUrl: string): Promise<GkeSources> {
    const live = await loadLiveSources();
    const rootUrl = `${computeUrl}/`;
    return {
      ...live,
      collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl }),
      fetchHostKeys: (p, i, o) => live.fetchHostKeys(p, i, { ...o, rootUrl }),
    };
  }

  async function recordAndJudge(world: GkeWorld) {
    const compute = await startComputeStandin(world.compute, { token: world.token });
    const kube = await startKubeStandin(world.kube, { token: world.token });
    const out = tempDir();
    try {
      const recorder = new SnapshotRecorder(out);
      const cluster = { access: { server: kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName };
      const opts = { ...base, ingress: { namespace: world.namespace, name: world.ingressName }, accessToken: world.token, noSsh: "--no-ssh was given" };
      const live = await verifyLiveIngress(cluster, opts, undefined, undefined, await liveSources(compute.url));
      const recorded = await verifyLiveIngress(cluster, opts, undefined, recorder, await liveSources(compute.url));
      const { value: offline, attempts } = await withoutNetwork(() => verifySnapshot(out, { ...base, ingress: { namespace: world.namespace, name: world.ingressName } }));
      expect(attempts).toEqual([]);
      return { live, recorded, offline, out, recorder, computeUrl: compute.url, kubeUrl: kube.url };
    } finally {
      await compute.close();
      await kube.close();
    }
  }

  const files = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(dir, f)).isFile());

  test("the article's world: same verdicts and the same load balancer and Kubernetes model, no warning", async () => {
    const world = buildWorld();
    const { live, offline, out, recorder, computeUrl, kubeUrl } = await recordAndJudge(world);
    expect(verdicts(offline.results)).toEqual(verdicts(live.results));
    expect(verdicts(live.results)).toMatchObject({ C1: "pass", C8: "pass", C9: "pass", C10: "pass", C11: "pass", C3: "cannot-tell" });
    expect(offline.model.loadBalancer).toEqual(live.model.loadBalancer);
    expect(offline.model.kubernetes).toEqual(live.model.kubernetes);
    expect(offline.model.problems.filter((p) => p.source === "input")).toEqual([]);
    // API objects as returned, cut to the fields the verifier reads (all of the stand-in's forwarding rule)
    const frFile = files(out).find((f) => f.includes("forwardingRules"))!;
    expect(JSON.parse(readFileSync(join(out, frFile), "utf8"))).toEqual(world.compute.forwardingRules[0]);
    const meta = JSON.parse(readFileSync(join(out, "snapshot.json"), "utf8"));
    expect(meta).toMatchObject({ format: "gke-ingress-path snapshot", project: world.project, ingress: `${world.namespace}/${world.ingressName}` });
    expect(meta.reads.length).toBe(recorder.meta.reads.length);
    expect(meta.from).toEqual({ compute: new URL(computeUrl).origin, kubernetes: new URL(kubeUrl).origin });
    expect(meta.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // no token anywhere in the folder
    for (const f of files(out)) expect({ f, token: readFileSync(join(out, f), "utf8").includes(world.token) }).toEqual({ f, token: false });
  });

  // The allow-lists (sources/read-fields.ts) keep only what the sources read: a field they drop
  // that a source or check reads makes the offline model or verdicts differ from the live ones.
  test.each([
    ["container-native (NEG) backends", () => withNegBackend(buildWorld())],
    ["Dataplane V2", () => withDataplaneV2(buildWorld())],
    ["the load balancer not made yet", () => withLoadBalancerNotProvisioned(buildWorld())],
  ])("%s: the snapshot judges like the live run (same verdicts, diagnosis and model)", async (_name, make) => {
    const { live, offline } = await recordAndJudge(make());
    expect(verdicts(offline.results)).toEqual(verdicts(live.results));
    expect(offline.diagnosis).toEqual(live.diagnosis);
    expect(offline.model.loadBalancer).toEqual(live.model.loadBalancer);
    expect(offline.model.kubernetes).toEqual(live.model.kubernetes);
  });

  test("an UNHEALTHY node: C11 fails live and offline alike", async () => {
    const { live, offline } = await recordAndJudge(withUnhealthyNode(buildWorld(), 1));
    expect(verdicts(live.results).C11).toBe("fail");
    expect(verdicts(offline.results)).toEqual(verdicts(live.results));
    expect(claim(offline, "C11").summary).toEqual(claim(live, "C11").summary);
  });

  test("the recorder never writes a Secret, and writes no request header", () => {
    const out = tempDir();
    const recorder = new SnapshotRecorder(out);
    recorder.kube("GET", new URL("https://x/api/v1/namespaces/study/secrets/db"), 200, JSON.stringify({ apiVersion: "v1", kind: "Secret", data: { password: "c3VwZXItc2VjcmV0" } }));
    recorder.kube("GET", new URL("https://x/api/v1/namespaces/study/secrets"), 200, JSON.stringify({ apiVersion: "v1", kind: "SecretList", items: [{ data: { token: "dG9rZW4=" } }] }));
    recorder.finish();
    expect(files(out)).toEqual(["snapshot.json"]);
    const meta = readFileSync(join(out, "snapshot.json"), "utf8");
    expect(meta).not.toContain("c3VwZXItc2VjcmV0");
    expect(JSON.parse(meta).withheld).toHaveLength(2);
  });
});
