// The checks read the trace's unknown shares: a node whose dump does not show where some new
// connections go is "cannot tell" (naming where the dump stops), never a pass and never a fail.
import { runChecks } from "../../verifier/checks";
import type { CheckResult, ClaimId, PathModel } from "../../verifier/model";
import { CLUSTER_IP, NODES, NODE_PORT, gkeModel } from "../verifier/fixtures/gke-model";

const SECOND_SEP = "-j KUBE-SEP-HEWFRD2WK32HJUJ3";

/** The article's cluster with node-2's nat dump edited by `edit`. */
function withNode2Dump(edit: (text: string) => string): PathModel {
  const model = gkeModel();
  const node = model.nodes.find((n) => n.name === NODES[1].name)!;
  node.nat = { ...node.nat!, text: edit(node.nat!.text) };
  return model;
}

const check = (model: PathModel, id: ClaimId): CheckResult => runChecks(model).find((r) => r.id === id)!;

describe("node checks and the trace's unknown shares", () => {
  test("the unedited model passes C2, C3, C6 and C7 (so the edits below are what changes them)", () => {
    const model = gkeModel();
    for (const id of ["C2", "C3", "C6", "C7"] as const) expect(check(model, id).verdict).toBe("pass");
  });

  test("a rule cut mid-name on one node: C2, C6, C7 cannot tell, naming the node, the share and the cut line", () => {
    const model = withNode2Dump((t) => t.replace(SECOND_SEP, "-j KUBE-SEP-HEWF"));
    for (const id of ["C2", "C6", "C7"] as const) {
      const r = check(model, id);
      expect({ id, verdict: r.verdict }).toEqual({ id, verdict: "cannot-tell" });
      // C6 looks at the nodePort side first; both reach the same cut rule
      const target = id === "C6" ? `${NODES[1].internalIp}:${NODE_PORT}` : `${CLUSTER_IP}:80`;
      expect(r.summary).toContain(`${NODES[1].name}: cannot tell where 50.0% of new connections to ${target} go (KUBE-SEP-HEWF line `);
      expect(r.evidence.map((e) => e.detail).join("\n")).toMatch(/50\.0% of new connections to .* reach KUBE-SEP-HEWF: line \d+ is cut/);
    }
    // the nodePort side reaches the same cut rule
    expect(check(model, "C3").verdict).toBe("cannot-tell");
    expect(check(model, "C3").summary).toContain(`${NODES[1].internalIp}:${NODE_PORT}`);
  });

  test("an unreadable DNAT on one node is unknown, not a route to the other pod", () => {
    const model = withNode2Dump((t) => t.replace("--to-destination 10.8.2.7:8080", "--to-destination pod-b"));
    const r = check(model, "C7");
    expect(r.verdict).toBe("cannot-tell");
    expect(r.summary).toMatch(/could not be read/);
  });

  test("a dump that really drops nodePort traffic stays a fail: dropped is a fact, not a gap", () => {
    // KUBE-EXT's last rule sends nodePort traffic to KUBE-MARK-DROP instead of the service chain
    const model = withNode2Dump((t) => t.replace(/^(-A KUBE-EXT-3GVTAQ3OJ7IGI3M3 -j) KUBE-SVC-3GVTAQ3OJ7IGI3M3$/m, "$1 KUBE-MARK-DROP"));
    const r = check(model, "C3");
    expect(r.verdict).toBe("fail");
    expect(r.summary).toContain(NODES[1].name);
  });
});
