// The report of a 100-node cluster (the article's GKE cluster grown in memory: 98 pod-less nodes
// alike, the pods on nodes 1 and 3): the claims' evidence says alike nodes once and counts them, a
// node that differs keeps its own lines, every node is named or counted, and the sections stay
// short enough to read; the JSON report keeps every node's evidence and every name.
//
// Bounds, at the default width of 100 columns, with GKE's 37-character node names:
// - the claims table and the tally (what stays on screen when the run ends): at most 40 lines, one
//   screen; the article's 3 nodes take 29.
// - the evidence, claim by claim: at most 150 lines, two screens of 75 rows; it does not grow with
//   the nodes (the 100-node section is at most 2 lines longer than the 10-node one) and stays
//   shorter than the article's 3-node section (185 lines), whose per-node lines it replaces. The
//   cloud claims C9..C11 alone take about 40 lines there, whatever the node count.
import { runChecks } from "../../verifier/checks";
import type { CheckResult, PathModel } from "../../verifier/model";
import { renderJson } from "../../verifier/report/json";
import { renderMarkdown } from "../../verifier/report/markdown";
import { renderTerminal } from "../../verifier/report/terminal";
import { evidenceBlocks, fewNames } from "../../verifier/report/evidence-groups";
import { NODE_PORT, gkeModel, scaledGkeModel } from "./fixtures/gke-model";
import { markdownEvidence, terminalSections } from "./fixtures/report-sections";

const COUNT = 100;
const CLAIMS_TABLE_MAX = 40;
const EVIDENCE_MAX = 150;

/** The model with node `index` (0-based) missing its KUBE-NODEPORTS rule for the Service's n-port. */
function withoutNodePortRule(model: PathModel, index: number): PathModel {
  const node = model.nodes[index]!;
  const rule = new RegExp(`^.*-A KUBE-NODEPORTS .*--dport ${NODE_PORT} .*\\n`, "m");
  expect(node.nat!.text).toMatch(rule);
  node.nat = { ...node.nat!, text: node.nat!.text.replace(rule, "") };
  for (const c of [node.countersBefore, node.countersAfter]) if (c) c.text = c.text.replace(rule, "");
  return model;
}

/** The lines of one claim's block in the terminal evidence section ("C3 pass: ..." up to the next claim). */
function claimLines(evidence: string[], id: string): string[] {
  const start = evidence.findIndex((l) => l.startsWith(`${id} `));
  const end = evidence.findIndex((l, i) => i > start && /^C\d+ /.test(l));
  return evidence.slice(start, end < 0 ? undefined : end);
}

/** Evidence entries of a block of lines, each joined back into one line (wrapped entries continue 6 spaces in). */
const entries = (lines: string[]) => lines.join("\n").replace(/\n {6}(?=\S)/g, " ").split("\n").filter((l) => /^ {4}- /.test(l)).map((l) => l.trim());

/** The nodes an entry list names as "- node NAME: ..." and the nodes its "N more nodes as X" lines count. */
function accounted(list: string[]): { named: Set<string>; counted: number } {
  const named = new Set(list.map((l) => /^- node (\S+?):/.exec(l)?.[1]).filter((n): n is string => !!n));
  const counted = list.reduce((sum, l) => sum + Number(/^- (\d+) more nodes? as /.exec(l)?.[1] ?? 0), 0);
  return { named, counted };
}

describe(`the report of ${COUNT} nodes`, () => {
  const model = withoutNodePortRule(scaledGkeModel(COUNT, { counters: true }), 49);
  const broken = model.nodes[49]!.name;
  const results = runChecks(model);
  const terminal = renderTerminal(model, results, { width: 100 });
  const cut = terminalSections(terminal);

  test("the model judges as expected: the node without its n-port rule fails C3 and C6, alone", () => {
    const byId = (id: string) => results.find((r) => r.id === id)!;
    expect(byId("C3").verdict).toBe("fail");
    expect(byId("C3").summary).toBe(`${broken}: no rule for nodePort ${NODE_PORT}`);
    expect(byId("C6").verdict).toBe("fail");
    expect(byId("C2").verdict).toBe("pass");
    expect(byId("C3").evidence).toHaveLength(COUNT);
  });

  test(`the claims table fits a screen (${CLAIMS_TABLE_MAX} lines) and the evidence two (${EVIDENCE_MAX})`, () => {
    expect(cut.claims.length).toBeLessThanOrEqual(CLAIMS_TABLE_MAX);
    expect(cut.evidence.length).toBeLessThanOrEqual(EVIDENCE_MAX);
    const article = terminalSections(renderTerminal(gkeModel({ counters: true }), runChecks(gkeModel({ counters: true })), { width: 100 }));
    expect(cut.evidence.length).toBeLessThan(article.evidence.length);
  });

  test("the evidence does not grow with the nodes: 100 nodes take at most 2 lines more than 10", () => {
    const small = withoutNodePortRule(scaledGkeModel(10, { counters: true }), 5);
    const lines = terminalSections(renderTerminal(small, runChecks(small), { width: 100 })).evidence.length;
    expect(cut.evidence.length - lines).toBeLessThanOrEqual(2);
  });

  test("every node is named or counted in each node claim, and the node that differs has its own line", () => {
    for (const id of ["C2", "C3", "C4", "C5", "C6", "C7"]) {
      const { named, counted } = accounted(entries(claimLines(cut.evidence, id)));
      expect({ id, total: named.size + counted }).toEqual({ id, total: COUNT });
    }
    const c3 = entries(claimLines(cut.evidence, "C3"));
    expect(c3.filter((l) => l.includes(broken))).toEqual([`- node ${broken}: sudo iptables-save -t nat (runs no pod of the Service): no rule matches --dport ${NODE_PORT}`]);
    // the pod-less nodes but the broken one: node 2 shown, 96 counted with it
    expect(c3.filter((l) => / more nodes? as /.test(l)).map((l) => /^- (\d+) more nodes? as (\S+)/.exec(l)!.slice(1))).toEqual([["96", model.nodes[1]!.name]]);
  });

  test("summaries name a few nodes and how many; the claims table too", () => {
    const c8 = results.find((r) => r.id === "C8")!;
    expect(c8.summary.split(", ").length).toBeGreaterThan(90);
    const table = cut.claims.join("\n").replace(/\n {20}/g, " ");
    expect(table).toMatch(/C8 +pass +2 pods on 2 distinct nodes; \S+, \S+, \S+, \S+ and 94 more run none\./);
    expect(cut.claims.filter((l) => l.includes("gke-ingress-path-pool")).length).toBeLessThanOrEqual(8);
  });

  test("the Markdown report groups the same way", () => {
    const md = markdownEvidence(renderMarkdown(model, results));
    expect(md.length).toBeLessThanOrEqual(EVIDENCE_MAX);
    const start = md.findIndex((l) => l.startsWith("### C3:"));
    const c3 = md.slice(start, md.findIndex((l, i) => i > start && l.startsWith("### ")));
    const named = new Set(c3.map((l) => /^- node (\S+?):/.exec(l)?.[1]).filter(Boolean));
    const counted = c3.reduce((sum, l) => sum + Number(/^- (\d+) more nodes? as /.exec(l)?.[1] ?? 0), 0);
    expect(named.size + counted).toBe(COUNT);
    expect(c3.some((l) => l.startsWith(`- node ${broken}:`) && l.includes(`no rule matches --dport ${NODE_PORT}`))).toBe(true);
  });

  test("the Markdown path table: a row per node that differs, one row counting the alike", () => {
    const md = renderMarkdown(model, results).split("\n");
    const rows = md.slice(md.findIndex((l) => l.startsWith("| node | n-ip:n-port"))).filter((l) => /^\| (gke-|\d+ more node)/.test(l));
    expect(rows.map((r) => /^\| (\S+)/.exec(r)![1])).toEqual([model.nodes[0]!.name, model.nodes[1]!.name, "96", model.nodes[2]!.name, broken]);
    expect(rows[2]).toMatch(new RegExp(`^\\| 96 more nodes: .* and 92 more \\| their own \\| same rules as ${model.nodes[1]!.name}: 0 new connections entered their n-port \\|`));
  });

  test("the JSON report keeps every node's evidence and every name", () => {
    const json = JSON.parse(renderJson(model, results)) as { checks: CheckResult[] };
    const c3 = json.checks.find((r) => r.id === "C3")!;
    expect(c3.evidence.map((e) => e.node ?? /^node (\S+?):/.exec(e.source)?.[1])).toEqual(model.nodes.map((n) => n.name));
    expect(json.checks.find((r) => r.id === "C8")!.summary).toBe(results.find((r) => r.id === "C8")!.summary);
  });
});

describe("evidence blocks", () => {
  test("every node with evidence is in exactly one block, shown or alike, in every claim", () => {
    const model = withoutNodePortRule(scaledGkeModel(40, { counters: true }), 20);
    for (const r of runChecks(model)) {
      const withEvidence = new Set(r.evidence.map((e) => e.node ?? /^node (\S+?):/.exec(e.source)?.[1]).filter((n) => n && model.nodes.some((x) => x.name === n)));
      const inBlocks = evidenceBlocks(r, model).flatMap((b) => (b.kind === "node" ? [b.node, ...b.alike] : []));
      expect({ id: r.id, nodes: [...inBlocks].sort() }).toEqual({ id: r.id, nodes: [...withEvidence].sort() });
    }
  });

  test("interfaces named for their node (veths, the lab's links) are the node's own, as its addresses are", () => {
    const model = scaledGkeModel(20);
    model.nodes.forEach((n, i) => n.addresses!.push({ ifname: `veth${(i * 7919).toString(16)}`, address: `10.9.${i}.1`, prefixLength: 32 }));
    const c4 = runChecks(model).find((r) => r.id === "C4")!;
    expect(evidenceBlocks(c4, model).map((b) => (b.kind === "node" ? b.alike.length : -1))).toEqual([19]);
  });

  test("the article's three nodes: one block per evidence line, as the checks gave them", () => {
    const model = gkeModel({ counters: true });
    for (const r of runChecks(model)) expect(evidenceBlocks(r, model)).toEqual(r.evidence.map((evidence) => ({ kind: "evidence", evidence })));
  });

  test("counters of alike nodes are added up; nodes whose counters did not move are another group", () => {
    const model = scaledGkeModel(8, { counters: true });
    const c12 = runChecks(model).find((r) => r.id === "C12")!;
    const groups = evidenceBlocks(c12, model).filter((b) => b.kind === "node");
    expect(groups.map((b) => (b.kind === "node" ? [b.node, b.alike.length] : []))).toEqual([[model.nodes[0]!.name, 2], [model.nodes[3]!.name, 4]]);
    // 20 requests: 7 + 6 + 7 entered the three first nodes' n-port, none the added ones
    expect(groups[0]!.kind === "node" && groups[0]!.counters[0]).toBe("+20 new connections entered by nodePort");
  });

  test("a run of many node names is cut to a few and how many; three names stay", () => {
    const names = Array.from({ length: 10 }, (_, i) => `node-${i + 1}`);
    expect(fewNames("including node-2, node-3, node-4, node-5, node-6, node-10 with no pod", names)).toBe("including node-2, node-3, node-4, node-5 and 2 more with no pod");
    expect(fewNames("node-1, node-10 run none", names)).toBe("node-1, node-10 run none");
    expect(fewNames("node-1, node-2, node-3, node-4, node-5", names.slice(0, 5))).toBe("node-1, node-2, node-3, node-4, node-5");
  });
});
