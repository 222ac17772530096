// A report ends with its point: a failing run's last lines repeat each cause with its fix, a passing
// run ends with one line; the lab's fixes speak the lab's language (npm run lab -- repair, its
// namespaces), never GKE's (kubectl, gcloud, a kube-proxy pod).
import { runChecks } from "../../verifier/checks";
import { diagnose } from "../../verifier/checks/diagnosis";
import { fixesForTarget } from "../../verifier/checks/diagnosis-lab";
import type { Diagnosis, PathModel } from "../../verifier/model";
import { renderTerminal } from "../../verifier/report/terminal";
import { outcomeOf } from "../../verifier/verify";
import { gkeModel, NODES } from "./fixtures/gke-model";

/** The article's cluster with node 2's nat table flushed (kube-proxy's rules gone there). */
function flushedNode2(): PathModel {
  const model = gkeModel();
  model.nodes[1]!.nat = { ...model.nodes[1]!.nat!, text: "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n" };
  return model;
}

function asLab(model: PathModel): PathModel {
  return { ...model, target: { ...model.target, kind: "lab", lab: { prefix: "gipx-", repair: "npm run lab -- repair" } } };
}

describe("the end of the terminal report", () => {
  test("a failing run: after the tally, each cause once with its fix, in the diagnosis's order", () => {
    const model = flushedNode2();
    const results = runChecks(model);
    const diagnosis = diagnose(model, results);
    expect(diagnosis.map((d) => d.cause)).toContain("kube-proxy-rules-missing");
    const text = renderTerminal(model, results, { color: false, width: 100, diagnosis });
    const lines = text.trimEnd().split("\n");
    const tally = lines.findIndex((l) => /^\d+ pass, \d+ fail, \d+ cannot tell$/.test(l));
    expect(tally).toBeGreaterThan(0);
    const tail = lines.slice(tally + 1).join("\n");
    expect(tail).toMatch(new RegExp(`^\\nWhat broke, and the fix \\(${diagnosis.length} causes?;`));
    // one numbered entry per cause, subject, cause id and fix in it (wrapped under its number)
    const entries = tail.split(/\n {2}(?=\d+\. )/).slice(1).map((e) => e.replace(/\n {5}/g, " "));
    expect(entries).toHaveLength(diagnosis.length);
    diagnosis.forEach((d, i) => expect(entries[i]).toBe(`${i + 1}. ${d.subject}: ${d.cause}: ${d.fix}`));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  test("a passing run ends with one line, and no list of causes", () => {
    const model = gkeModel({ counters: true });
    const results = runChecks(model);
    const text = renderTerminal(model, results, { color: false, width: 100 });
    expect(text.trimEnd().split("\n").pop()).toBe("12 pass, 0 fail, 0 cannot tell");
    expect(text).not.toContain("What broke");
    expect(outcomeOf(model, results)).toEqual({ exitCode: 0, reason: "all 12 claims hold" });
  });
});

describe("fixes in the target's language", () => {
  test("GKE: the kube-proxy pod; the lab: npm run lab -- repair and nothing of GKE's", () => {
    const gke = flushedNode2();
    const gkeCause = diagnose(gke, runChecks(gke)).find((d) => d.cause === "kube-proxy-rules-missing")!;
    expect(gkeCause.fix).toMatch(/kubectl -n kube-system delete pod -l component=kube-proxy/);

    const lab = asLab(flushedNode2());
    const causes = diagnose(lab, runChecks(lab));
    const labCause = causes.find((d) => d.cause === "kube-proxy-rules-missing")!;
    expect(labCause.subject).toBe(NODES[1]!.name);
    expect(labCause.fix).toMatch(/npm run lab -- repair: reloads .*'s kube-proxy-style nat rules/);
    for (const d of causes) expect(d.fix).not.toMatch(/kubectl|gcloud|kube-proxy pod/);
  });

  test("by-hand fixes name the lab's namespace of the node", () => {
    const model = asLab(gkeModel());
    const cause = (id: string): Diagnosis => ({ hop: "node-forwarding", subject: "node-2", cause: id, summary: "s", evidence: [], fix: "on node-2: sysctl -w net.ipv4.ip_forward=1" });
    const [ipForward, unknown, unexplained] = fixesForTarget([cause("ip-forward-disabled"), cause("some-new-cause"), cause("unexplained")], model);
    expect(ipForward!.fix).toContain("ip netns exec gipx-node-2 sysctl -w net.ipv4.ip_forward=1");
    expect(unknown!.fix).toMatch(/npm run lab -- repair: puts the lab back as lab up made it$/);
    expect(unexplained!.fix).not.toMatch(/report it/);
    // GKE's fixes are left as the finders wrote them
    expect(fixesForTarget([cause("ip-forward-disabled")], gkeModel())[0]!.fix).toBe("on node-2: sysctl -w net.ipv4.ip_forward=1");
  });

  test("the walk's by-hand command comes from the cause's command field, never from parsing its fix prose", () => {
    const model = asLab(gkeModel());
    const command = "iptables -t nat -I KUBE-POSTROUTING 2 -j MARK --xor-mark 0x4000";
    const walked: Diagnosis = { hop: "node-nat", subject: "node-2", cause: "path-rule-missing", summary: "s", evidence: [], fix: "on node-2: restart kube-proxy, or put the line back", command };
    expect(fixesForTarget([walked], model)[0]!.fix).toBe(`npm run lab -- repair: reloads node-2's kube-proxy-style rules as lab up wrote them; by hand: ip netns exec gipx-node-2 ${command}`);
    // prose that happens to hold an iptables command is not a command
    const prose: Diagnosis = { ...walked, command: undefined, fix: `on node-2: put the line back by hand: ${command}; then find what deleted it` };
    expect(fixesForTarget([prose], model)[0]!.fix).toBe("npm run lab -- repair: reloads node-2's kube-proxy-style rules as lab up wrote them");
  });
});
