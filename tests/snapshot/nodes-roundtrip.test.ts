// `npm run snapshot` from the program's stack, nodes included: the REST stand-ins serve a world laid
// over real node namespaces (gipsn-, 10.221.0.0/16: sshd, kube-proxy nat rules), the recorder
// saves the APIs' answers and what SSH read from every node, and `verify --snapshot` on the folder
// gives the live verdicts, node claims included. The SSH private key and the token reach no file.
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labDown } from "../../lab/down";
import { readClientKey } from "../../lab/state";
import { labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import type { CheckResult } from "../../verifier/model";
import { SnapshotRecorder } from "../../verifier/snapshot/record";
import { verifyLiveIngress, verifySnapshot } from "../../verifier/snapshot/run";
import { loadLiveSources, type GkeSources } from "../../verifier/verify";
import { startStandins, worldOnLab } from "../e2e/gke-on-lab";
import { describeWithNamespaces } from "../support/namespaces";

jest.setTimeout(120_000);

const t = labTopology({ prefix: "gipsn-", net: "10.221" });
const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.verdict]));

describeWithNamespaces("npm run snapshot with SSH to namespaced nodes, then verify --snapshot (gipsn-, 10.221.0.0/16)", () => {
  let hostKeys: Record<string, string> = {};
  let clientKey = "";
  const out = mkdtempSync(join(tmpdir(), "gip-snapshot-nodes-"));

  beforeAll(async () => {
    await labDown(t);
    hostKeys = (await labUp(t)).state.hostKeys;
    clientKey = readClientKey(t) ?? "";
    expect(clientKey).toContain("BEGIN OPENSSH PRIVATE KEY");
  });

  afterAll(async () => {
    rmSync(out, { recursive: true, force: true });
    const down = await labDown(t);
    if (down.leftovers.length > 0) throw new Error(`gipsn- lab not cleaned: ${down.leftovers.join("; ")}`);
  });

  test("the node files written are read back as SSH read them: same verdicts, same nat dumps, no secret in the folder", async () => {
    const world = worldOnLab(t, hostKeys);
    const standins = await startStandins(world);
    try {
      const live = await loadLiveSources();
      const rootUrl = `${standins.compute.url}/`;
      const sources: GkeSources = {
        ...live,
        collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl }),
        fetchHostKeys: (p, i, o) => live.fetchHostKeys(p, i, { ...o, rootUrl }),
      };
      const recorder = new SnapshotRecorder(out);
      const recorded = await verifyLiveIngress(
        { access: { server: standins.kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName },
        { ingress: { namespace: world.namespace, name: world.ingressName }, requests: 0, timeoutMs: 8000, accessToken: world.token, ssh: { user: "root", privateKey: clientKey, transport: "direct" } },
        undefined,
        recorder,
        sources,
      );
      const notPassing = recorded.results.filter((r) => r.verdict !== "pass" && r.id !== "C12").map((r) => `${r.id} ${r.verdict}: ${r.summary}`);
      expect(notPassing).toEqual([]);
      expect(recorder.meta.nodes.map((n) => n.files.length)).toEqual([3, 3, 3]);

      const offline = await verifySnapshot(out, { ingress: { namespace: world.namespace, name: world.ingressName }, requests: 0, timeoutMs: 1000 });
      expect(verdicts(offline.results)).toEqual(verdicts(recorded.results));
      expect(offline.model.nodes.map((n) => n.nat?.text)).toEqual(recorded.model.nodes.map((n) => n.nat?.text));
      expect(offline.model.nodes.map((n) => n.addresses)).toEqual(recorded.model.nodes.map((n) => n.addresses));
      expect(offline.model.nodes.map((n) => n.listeners)).toEqual(recorded.model.nodes.map((n) => n.listeners));
      expect(offline.model.problems.filter((p) => p.source === "input")).toEqual([]);

      const keyLines = clientKey.split("\n").filter((l) => l.length >= 40);
      const files = readdirSync(out, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(out, f)).isFile());
      for (const f of files) {
        const text = readFileSync(join(out, f), "utf8");
        expect({ f, key: keyLines.some((l) => text.includes(l)), token: text.includes(world.token), hostKeys: Object.values(hostKeys).some((k) => text.includes(k.split(" ")[1]!)) }).toEqual({ f, key: false, token: false, hostKeys: false });
      }
    } finally {
      await standins.close();
    }
  });
});
