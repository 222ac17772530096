// `lab break --list` and `lab break`'s "next" line tell, per fault, what the diagnosis will name
// (`reported`): it must be the hop and cause names verify prints (a reader greps the report for
// them), the same ones the fault suites hold the real diagnosis to.
import { ALL_FAULTS, LAB_FAULTS, unknownFaultMessage } from "../../lab/faults";
import { NEG_FAULTS } from "../../lab/neg-faults";
import { EXPECTED } from "./fault-suite";

/** The NEG faults' diagnosis as tests/lab/lab-neg.test.ts holds it: [hop, cause]. */
const NEG_EXPECTED: Record<string, [string, string][]> = {
  "endpoint-stale": [["network-endpoint-group", "neg-endpoints-missing"], ["network-endpoint-group", "neg-endpoints-stale"], ["pod", "neg-readiness-gate-stuck"]],
  "neg-zone-detached": [["backend-service", "neg-zone-without-backend"]],
  "neg-forward-drop": [["node-forwarding", "forward-policy-drop"]],
  "firewall-no-pod-port": [["firewall", "neg-firewall-pod-port"]],
};

const expected = (id: string): [string, string][] => NEG_EXPECTED[id] ?? (EXPECTED[id] ?? []).map(([hop, , cause]) => [hop, cause] as [string, string]);

test.each(ALL_FAULTS.map((f) => [f.id, f.reported]))("%s: reported names the hop and the cause verify gives", (id, reported) => {
  const causes = expected(id);
  expect(causes.length).toBeGreaterThan(0);
  for (const [hop, cause] of causes) {
    expect(reported).toContain(`${hop} / `);
    expect(reported).toContain(cause);
  }
});

test("every fault has its expectation here or in the fault suites", () => {
  expect(LAB_FAULTS.map((f) => f.id).filter((id) => !EXPECTED[id])).toEqual([]);
  expect(NEG_FAULTS.map((f) => f.id).sort()).toEqual(Object.keys(NEG_EXPECTED).sort());
});

test("an unknown fault's message names the faults of both labs, each under the lab it applies to", () => {
  const m = unknownFaultMessage("nosuch");
  const [ig, neg] = m.split("; on a NEG lab");
  expect(ig).toContain("nat-flushed");
  expect(ig).not.toContain("neg-zone-detached");
  expect(neg).toContain("neg-zone-detached");
  expect(neg).toContain("endpoint-stale");
  expect(neg).not.toContain("nat-flushed");
});
