import { mergeSameCause } from "../../verifier/checks/diagnosis";
import type { Diagnosis } from "../../verifier/model";

const entry = (hop: Diagnosis["hop"], subject: string, cause: string, detail: string, claims: Diagnosis["claims"]): Diagnosis => ({
  hop, subject, cause, summary: `${subject} ${cause}`, evidence: [{ source: "s", detail }], fix: "f", claims,
});

describe("mergeSameCause", () => {
  test("the same cause from the health check and from each pod: the pods' entries stay, with the health check's evidence and claims", () => {
    const merged = mergeSameCause([
      entry("health-check", "k8s-be-30080", "health-check-path-not-200", "requestPath=/", ["C11", "C12"]),
      entry("pod", "pod-1", "health-check-path-not-200", "GET / -> 301", ["C11"]),
      entry("pod", "pod-2", "health-check-path-not-200", "GET / -> 301", ["C11"]),
    ]);
    expect(merged.map((d) => [d.hop, d.subject])).toEqual([["pod", "pod-1"], ["pod", "pod-2"]]);
    expect(merged[0]!.evidence.map((e) => e.detail)).toEqual(["GET / -> 301", "requestPath=/"]);
    expect(merged[0]!.claims).toEqual(["C11", "C12"]);
    expect(merged[1]!.evidence.map((e) => e.detail)).toEqual(["GET / -> 301"]);
  });

  test("different causes are left alone", () => {
    const input = [entry("firewall", "fw", "firewall-missing", "a", ["C11"]), entry("node-nat", "node-2", "kube-proxy-rules-missing", "b", ["C3"])];
    expect(mergeSameCause(input)).toEqual(input);
  });
});
