// Every fault of `lab break --list` on a real lab (root): break, verify, and the diagnosis names
// the hop, the subject and the cause (JSON fields, not prose); `lab repair` between cases puts the
// lab back, and the repaired lab verifies clean with an empty diagnosis. The catalogue is split
// over two test files (the pod-side and the node-side faults), each with its own lab, prefix and
// address block, so jest runs them side by side.
import { LAB_FAULTS, labBreak } from "../../lab/faults";
import { labTopology } from "../../lab/topology";
import { TEST_HEALTH_CHECK_MS, useLab } from "../support/lab-lifecycle";
import { labVerify } from "../../lab/verify";
import type { Diagnosis } from "../../verifier/model";
import { describeWithNamespaces } from "../support/namespaces";

/** What each fault must be diagnosed as: [hop, subject, cause], the whole diagnosis (nothing unexplained). */
export const EXPECTED: Record<string, [string, string, string][]> = {
  "health-check-301": [["pod", "pod-1", "health-check-path-not-200"], ["pod", "pod-2", "health-check-path-not-200"]],
  "health-check-404": [["pod", "pod-1", "health-check-path-not-200"], ["pod", "pod-2", "health-check-path-not-200"]],
  "pod-wrong-port": [["pod", "pod-1", "pod-listens-on-other-port"], ["pod", "pod-2", "pod-listens-on-other-port"]],
  "app-on-loopback": [["pod", "pod-1", "app-bound-to-loopback"], ["pod", "pod-2", "app-bound-to-loopback"]],
  "pod-stopped": [["pod", "pod-2", "pod-not-ready"]],
  "nat-flushed": [["node-nat", "node-2", "kube-proxy-rules-missing"]],
  "sep-rule-deleted": [["node-nat", "node-2", "endpoint-rule-missing"]],
  "external-traffic-policy-local": [["node", "node-2", "no-local-endpoint"], ["service", "default/hello", "external-traffic-policy-local"]],
  "forward-drop": [["node-forwarding", "node-2", "forward-policy-drop"]],
  "ip-forward-off": [["node-forwarding", "node-2", "ip-forward-disabled"]],
};

/** The two files' shares of the catalogue: each fault in exactly one. */
export const FAULT_FILES = {
  "lab-faults-pod.test.ts": ["health-check-301", "health-check-404", "pod-wrong-port", "app-on-loopback", "pod-stopped"],
  "lab-faults-node.test.ts": ["nat-flushed", "sep-rule-deleted", "external-traffic-policy-local", "forward-drop", "ip-forward-off"],
};

const fields = (d: Diagnosis[]) => d.map((x) => [x.hop, x.subject, x.cause]);

/** One lab (prefix, net) that runs `ids` in turn, then verifies clean after the last repair. */
export function faultSuite(file: keyof typeof FAULT_FILES, prefix: string, net: string): void {
  const ids = FAULT_FILES[file];
  const t = labTopology({ prefix, net, healthCheckIntervalMs: TEST_HEALTH_CHECK_MS });

  test("the catalogue and the expectations name the same faults, each in one file", () => {
    expect(LAB_FAULTS.map((f) => f.id).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(Object.values(FAULT_FILES).flat().sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  describeWithNamespaces(`lab break <fault>: ${ids.length} faults diagnosed by hop, subject and cause (${prefix}, ${net})`, () => {
    useLab(t);

    test("the healthy lab has an empty diagnosis", async () => {
      const outcome = await labVerify(t, { requests: 20 });
      expect(outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id}: ${r.summary}`)).toEqual([]);
      expect(outcome.diagnosis).toEqual([]);
      expect(JSON.parse(outcome.json).diagnosis).toEqual([]);
    });

    test.each(ids)("%s", async (id) => {
      const broken = await labBreak(t, id);
      expect(broken.shown).toBe(true);
      const outcome = await labVerify(t, { requests: 20 });
      expect(outcome.exitCode).toBe(1);
      const json = JSON.parse(outcome.json) as { diagnosis: Diagnosis[]; path: { hop: string; perNode?: { node: string; verdict: string }[] }[] };
      expect(fields(json.diagnosis)).toEqual(EXPECTED[id]);
      // The path agrees with the diagnosis: a node that cannot forward fails at its own hop, the others do not.
      const nodeHop = json.path.find((h) => h.hop === "node")!;
      const forwarding = json.diagnosis.filter((d) => d.hop === "node-forwarding").map((d) => d.subject);
      expect(nodeHop.perNode!.filter((n) => n.verdict === "fail").map((n) => n.node)).toEqual(forwarding);
      // Every failing claim is explained by a named cause.
      const failed = outcome.results.filter((r) => r.verdict === "fail").map((r) => r.id);
      const explained = new Set(json.diagnosis.flatMap((d) => d.claims ?? []));
      expect(failed.filter((c) => !explained.has(c))).toEqual([]);
      for (const d of json.diagnosis) {
        expect(d.summary.length).toBeGreaterThan(20);
        expect(d.fix.length).toBeGreaterThan(10);
        expect(d.evidence.length).toBeGreaterThan(0);
      }
    });
  }, ["sshd", "ssh-keygen", "curl"]);
}
