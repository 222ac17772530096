// The diagnosis by walking the path (verifier/checks/path-walk.ts), judged on the lab in memory:
// every rule kube-proxy writes on a lab node is deleted, one at a time, on a node with a pod
// (node-1) and on one without (node-3 runs pod-2, node-2 none), and the pure checks and diagnosis
// judge the dumps. Each deletion either leaves every claim as it was, or is named at that node with
// that very rule. The real lab confirms a sample (tests/lab/lab-walk.test.ts).
import { runChecks } from "../../verifier/checks";
import { diagnose } from "../../verifier/checks/diagnosis";
import type { CheckResult, Diagnosis, PathModel } from "../../verifier/model";
import { labDump, labModel, labNode } from "./fixtures/lab-model";

interface Judged {
  results: CheckResult[];
  diagnosis: Diagnosis[];
}
const judge = (m: PathModel): Judged => {
  const results = runChecks(m);
  return { results, diagnosis: diagnose(m, results) };
};

/** Every `-A` line of a dump, with its index among the dump's lines. */
function ruleLines(dump: string): { index: number; text: string; table: string }[] {
  let table = "";
  return dump.split("\n").flatMap((text, index) => {
    if (text.startsWith("*")) table = text.slice(1);
    return text.startsWith("-A ") ? [{ index, text, table }] : [];
  });
}
const without = (dump: string, index: number) => dump.split("\n").filter((_, i) => i !== index).join("\n");

/** The diagnosis names `node` and quotes `rule` (as a node that has it shows it, or as its own line). */
function names(d: Diagnosis[], node: string, rule: string): boolean {
  return d.some((c) => c.subject === node && c.cause !== "unexplained" && c.evidence.some((e) => e.rule === rule || e.detail.includes(rule)));
}

const baseline = judge(labModel());

test("the healthy lab in memory: every claim holds, nothing to diagnose", () => {
  expect(baseline.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id}: ${r.summary}`)).toEqual([]);
  expect(baseline.diagnosis).toEqual([]);
});

const sweep = ["node-1", "node-2"].flatMap((node) => ruleLines(labDump(node)).map((r) => ({ node, ...r })));

/** Deletions after which every claim still holds (in memory: the claims read the nat trace; see below). */
const harmless: string[] = [];

describe.each(sweep)("$node: $table rule deleted: $text", ({ node, index, text }) => {
  test("every claim holds, or the diagnosis names the node and the rule", () => {
    const j = judge(labModel({ [node]: labNode(node, without(labDump(node), index)) }));
    const changed = j.results.filter((r) => r.verdict !== "pass");
    if (changed.length === 0) {
      harmless.push(`${node} ${text}`);
      expect(j.diagnosis).toEqual([]);
      return;
    }
    const explained = { node, rule: text, named: names(j.diagnosis, node, text), diagnosis: j.diagnosis.map((c) => `${c.hop} ${c.subject} ${c.cause}: ${c.summary}`), failing: changed.map((r) => `${r.id}: ${r.summary}`) };
    expect(explained).toMatchObject({ named: true });
  });
});

test("what the claims do not see in memory: the filter table, the masquerade mark and MASQUERADE, OUTPUT, the hairpin marks", () => {
  // Only rules that change where a new connection is DNATed make a claim fail from the dumps alone.
  // The rest changes what happens after the rewrite (is the packet accepted by FORWARD, does the
  // reply come back through the node): the real lab's health checks and requests see that
  // (tests/lab/lab-walk.test.ts), the dumps do not.
  const kinds = harmless.map((h) => h.replace(/^node-\d /, "").replace(/"[^"]*"/g, "").replace(/KUBE-(SEP|SVC|EXT)-\w+/g, "KUBE-$1-*").replace(/\s+/g, " "));
  expect(new Set(harmless.map((h) => h.slice(0, 6)))).toEqual(new Set(["node-1", "node-2"]));
  expect([...new Set(kinds)].sort()).toEqual(
    [
      "-A FORWARD -m comment --comment -j KUBE-FORWARD",
      "-A FORWARD -m conntrack --ctstate NEW -m comment --comment -j KUBE-EXTERNAL-SERVICES",
      "-A FORWARD -m conntrack --ctstate NEW -m comment --comment -j KUBE-PROXY-FIREWALL",
      "-A FORWARD -m conntrack --ctstate NEW -m comment --comment -j KUBE-SERVICES",
      "-A INPUT -m comment --comment -j KUBE-NODEPORTS",
      "-A INPUT -m conntrack --ctstate NEW -m comment --comment -j KUBE-EXTERNAL-SERVICES",
      "-A INPUT -m conntrack --ctstate NEW -m comment --comment -j KUBE-PROXY-FIREWALL",
      "-A KUBE-EXT-* -m comment --comment -j KUBE-MARK-MASQ",
      "-A KUBE-FORWARD -m comment --comment -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      "-A KUBE-FORWARD -m comment --comment -m mark --mark 0x4000/0x4000 -j ACCEPT",
      "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
      "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
      "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
      "-A KUBE-POSTROUTING -m comment --comment -j MASQUERADE --random-fully",
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
      "-A KUBE-SEP-* -m comment --comment default/hello -s 10.213.65.2 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-* -m comment --comment default/hello -s 10.213.67.2 -j KUBE-MARK-MASQ",
      "-A KUBE-SVC-* -m comment --comment -m tcp -p tcp -d 10.213.128.10 --dport 80 ! -s 10.213.64.0/18 -j KUBE-MARK-MASQ",
      "-A OUTPUT -m comment --comment -j KUBE-SERVICES",
      "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment -j KUBE-PROXY-FIREWALL",
      "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment -j KUBE-SERVICES",
      "-A POSTROUTING -m comment --comment -j KUBE-POSTROUTING",
    ].sort(),
  );
});

describe("what the walk names once requests or health checks fail (as the real lab shows them)", () => {
  /** node-2 flaps (some health checks time out) and a request fails, as in the lab when its replies go astray */
  function failing(node: string, dump: string): Judged {
    const m = labModel({ [node]: labNode(node, dump) });
    const h = m.loadBalancer!.backendServices[0].health.find((x) => x.instance === node)!;
    h.detail = "2 of the last 3 health checks failed (last: timeout after 1000 ms)";
    m.requests!.results[3] = { error: "HTTP 502 (no answer from the backend)" };
    return judge(m);
  }

  test.each([
    ["-A KUBE-EXT-STDNOFAI3EEZDIVA -m comment", "node-nat", "not marked for masquerading"],
    ["-A KUBE-MARK-MASQ -j MARK", "node-nat", "masquerade mark is not set"],
    ["-A POSTROUTING -m comment", "node-nat", "skips kube-proxy's masquerading"],
    ["-A KUBE-POSTROUTING -m comment", "node-nat", "not masqueraded"],
  ])("deleted on node-2: %s -> %s at node-2, quoting the rule from a node that has it", (prefix, hop, effect) => {
    const dump = labDump("node-2");
    const line = dump.split("\n").find((l) => l.startsWith(prefix))!;
    const j = failing("node-2", dump.split("\n").filter((l) => l !== line).join("\n"));
    const c = j.diagnosis.find((d) => d.subject === "node-2")!;
    expect(c).toMatchObject({ hop, cause: "path-rule-missing", claims: expect.arrayContaining(["C11"]) });
    expect(c.summary).toContain(effect);
    expect(c.evidence).toContainEqual(expect.objectContaining({ node: "node-1", rule: line }));
    expect(c.fix).toContain("iptables -t nat -I");
    expect(c.command).toMatch(/^iptables -t nat -I /);
    expect(c.fix).toContain(c.command);
    expect(j.diagnosis.filter((d) => d.cause === "unexplained")).toEqual([]);
  });

  test("a node UNHEALTHY when read, whose requests still failed (it flapped back during them): its named cause also explains C12", () => {
    // The LB's status is read before the requests; a node failing half its checks can be
    // UNHEALTHY then and HEALTHY a moment later, when the requests it takes fail.
    const dump = labDump("node-2");
    const line = dump.split("\n").find((l) => l.startsWith("-A KUBE-MARK-MASQ -j MARK"))!;
    const m = labModel({ "node-2": labNode("node-2", dump.split("\n").filter((l) => l !== line).join("\n")) });
    const h = m.loadBalancer!.backendServices[0].health.find((x) => x.instance === "node-2")!;
    h.state = "UNHEALTHY";
    h.detail = "2 of the last 3 health checks failed (last: no answer within 1000 ms)";
    for (const i of [3, 9, 15]) m.requests!.results[i] = { error: "no answer within 1000 ms" };
    const j = judge(m);
    expect(j.results.find((r) => r.id === "C12")!.verdict).toBe("fail");
    expect(j.diagnosis.filter((d) => d.cause === "unexplained").map((d) => d.summary)).toEqual([]);
    const c = j.diagnosis.find((d) => d.subject === "node-2")!;
    expect(c).toMatchObject({ hop: "node-nat", cause: "path-rule-missing", claims: expect.arrayContaining(["C11", "C12"]) });
  });

  test("nothing differs on the failing node: unexplained names it, says what was compared and what to save next", () => {
    const j = failing("node-2", labDump("node-2"));
    const u = j.diagnosis.filter((d) => d.cause === "unexplained");
    expect(u.length).toBeGreaterThan(0);
    for (const d of u) {
      expect(d.subject).toBe("node-2");
      expect(d.summary).toMatch(/compared .*node-2.* with node-1, node-3/);
      expect(d.fix).toMatch(/iptables-save -c/);
    }
  });
});

describe("other node state the checks read", () => {
  test("net.ipv4.ip_forward 0 on node-2, health failing: ip-forward-disabled at node-2 (a specific cause says more than the walk)", () => {
    const n = labNode("node-2");
    n.forwarding!.ipForward = false;
    const m = labModel({ "node-2": n });
    const h = m.loadBalancer!.backendServices[0].health.find((x) => x.instance === "node-2")!;
    h.state = "UNHEALTHY";
    const j = judge(m);
    expect(j.diagnosis.map((d) => [d.hop, d.subject, d.cause])).toEqual([["node-forwarding", "node-2", "ip-forward-disabled"]]);
  });

  test("a process listening on n-port on node-2: C5 fails at node-2 and is named there", () => {
    const n = labNode("node-2");
    n.listeners!.push({ address: "0.0.0.0", port: 30080, process: "python3" });
    const j = judge(labModel({ "node-2": n }));
    expect(j.results.find((r) => r.id === "C5")!.verdict).toBe("fail");
    const d = j.diagnosis.filter((x) => (x.claims ?? []).includes("C5"));
    expect(d.map((x) => x.subject)).toEqual(["node-2"]);
  });
});

test("a stopped pod (not ready, still in every node's split): no node is blamed for it, pod-not-ready says it", () => {
  const m = labModel();
  for (const e of m.kubernetes!.endpoints) if (e.podName === "pod-2") e.ready = false;
  m.kubernetes!.pods.find((p) => p.name === "pod-2")!.ready = false;
  const j = judge(m);
  expect(j.results.find((r) => r.id === "C7")!.verdict).toBe("fail");
  expect(j.diagnosis.map((d) => [d.hop, d.subject, d.cause])).toEqual([["pod", "pod-2", "pod-not-ready"]]);
});
