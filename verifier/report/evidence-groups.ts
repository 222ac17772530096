// A claim's evidence on a big cluster, as the terminal and Markdown reports show it: the nodes whose
// evidence says the same (their own name, addresses, rule line numbers and counters aside) are one
// node's lines and one line naming the others; a node that differs keeps its own lines. Long lists
// of node names in a claim's prose name a few and say how many. The checks' results stay whole:
// the JSON report (design.md, "contract: verify report JSON") keeps every node's evidence.
import type { CheckResult, Evidence, PathModel } from "../model";
import { GROUP_FROM_NODES, someNames } from "./common";
import { plural } from "./layout";

/** One evidence line as the checks gave it, or a node's lines standing for the nodes alike. */
export type EvidenceBlock =
  | { kind: "evidence"; evidence: Evidence }
  | {
      kind: "node";
      /** the node whose lines are shown (the first of its group along the evidence) */
      node: string;
      evidence: Evidence[];
      /** the other nodes whose evidence says the same, in the evidence's order ([]: the node differs) */
      alike: string[];
      /** the alike nodes' rules stand at other lines of their dumps than the shown node's */
      otherLines: boolean;
      /** the counters ("+N new connections ...") of the shown node and the alike ones added up, per line */
      counters: string[];
    };

/**
 * Each node's own words: its name, and every address the sources give it (n-ip, external IP, the
 * SSH address, the interfaces and addresses of `ip -o addr`, the VM's IPs). Shape: name -> tokens.
 */
export function nodeTokens(model: PathModel): Map<string, string[]> {
  const tokens = new Map<string, Set<string>>();
  const add = (name: string, ...values: (string | undefined)[]) => {
    const set = tokens.get(name) ?? new Set<string>([name]);
    for (const v of values) if (v) set.add(v);
    tokens.set(name, set);
  };
  // Interface names too: a node's veths (and the lab's per-node links) are named for that node.
  for (const n of model.nodes) add(n.name, n.internalIp, n.externalIp, n.sshAddress, ...(n.addresses ?? []).flatMap((a) => [a.address, a.ifname === "lo" ? undefined : a.ifname]));
  for (const n of model.kubernetes?.nodes ?? []) add(n.name, n.internalIp, n.externalIp);
  for (const i of model.loadBalancer?.instances ?? []) add(i.name, i.internalIp, i.externalIp);
  // Longest first, so that 10.128.0.22 is replaced before 10.128.0.2 could match inside it.
  return new Map([...tokens].map(([name, set]) => [name, [...set].sort((a, b) => b.length - a.length)]));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const COUNTER = /\+(\d+) new connections?/g;

/** The node an evidence line is about: its `node` field, else a source "node NAME: ..." (a dump's). */
function evidenceNode(e: Evidence, known: Map<string, string[]>): string | undefined {
  if (e.node && known.has(e.node)) return e.node;
  const named = /^node (\S+?):? /.exec(e.source)?.[1];
  return named && known.has(named) ? named : undefined;
}

/** A node's evidence with its own words, line numbers and counters blanked: equal keys say the same. */
function sameness(evidence: Evidence[], own: string[]): { key: string; lines: string; counts: number[] } {
  const words = own.map((w) => new RegExp(`(?<![\\w.-])${escape(w)}(?![\\w-]|\\.\\d)`, "g"));
  const blank = (text: string) => words.reduce((t, re) => t.replace(re, "<own>"), text);
  const counts: number[] = [];
  const key = evidence
    .map((e) => {
      const text = blank(`${e.source}\n${e.detail}`).replace(COUNTER, (_, n: string) => {
        counts.push(Number(n));
        return "+# new connections";
      });
      return text.replace(/\bline \d+/g, "line #");
    })
    .join("\n\n");
  const lines = evidence.map((e) => [...`${e.source} ${e.detail}`.matchAll(/\bline (\d+)/g)].map((m) => m[1]).join(",")).join(";") + `|${evidence.map((e) => e.line ?? "").join(",")}`;
  return { key, lines, counts };
}

/**
 * A claim's evidence in blocks, in the order of the evidence. With fewer than GROUP_FROM_NODES
 * nodes in the model (the article's three), one block per evidence line, as the checks gave them.
 * From there, a node's lines are gathered into one block where the node first appears, and nodes
 * whose lines say the same are counted in that block (`alike`); lines about no node stay where
 * they are. Every node with evidence is in exactly one block, shown or alike.
 */
export function evidenceBlocks(result: CheckResult, model: PathModel, known = nodeTokens(model)): EvidenceBlock[] {
  if (known.size < GROUP_FROM_NODES) return result.evidence.map((evidence) => ({ kind: "evidence", evidence }));
  const byNode = new Map<string, Evidence[]>();
  for (const e of result.evidence) {
    const node = evidenceNode(e, known);
    if (node) byNode.set(node, [...(byNode.get(node) ?? []), e]);
  }
  // The groups, each led by its first node along the evidence.
  const leader = new Map<string, string>();
  const groups = new Map<string, { node: string; alike: string[]; lines: string; otherLines: boolean; counts: number[] }>();
  for (const [node, evidence] of byNode) {
    const s = sameness(evidence, known.get(node) ?? [node]);
    const group = groups.get(s.key);
    if (!group) {
      groups.set(s.key, { node, alike: [], lines: s.lines, otherLines: false, counts: s.counts });
      leader.set(node, node);
      continue;
    }
    group.alike.push(node);
    group.otherLines ||= group.lines !== s.lines;
    s.counts.forEach((c, i) => (group.counts[i] = (group.counts[i] ?? 0) + c));
    leader.set(node, group.node);
  }
  const byLeader = new Map([...groups.values()].map((g) => [g.node, g]));
  const blocks: EvidenceBlock[] = [];
  const shown = new Set<string>();
  for (const e of result.evidence) {
    const node = evidenceNode(e, known);
    if (!node) {
      blocks.push({ kind: "evidence", evidence: e });
      continue;
    }
    if (shown.has(node) || leader.get(node) !== node) continue;
    shown.add(node);
    const g = byLeader.get(node)!;
    const evidence = byNode.get(node)!;
    blocks.push({ kind: "node", node, evidence, alike: g.alike, otherLines: g.otherLines, counters: g.alike.length > 0 ? addedCounters(evidence, g.counts) : [] });
  }
  return blocks;
}

/** "+582 new connections entered by nodePort": each counter phrase of the shown lines, with the group's sum. */
function addedCounters(evidence: Evidence[], sums: number[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const e of evidence) {
    for (const m of e.detail.matchAll(/\+(\d+) new connections?((?: [^\s(;]+)*)/g)) {
      const sum = sums[i++] ?? Number(m[1]);
      out.push(`+${plural(sum, "new connection")}${m[2] ?? ""}`);
    }
  }
  return out;
}

/**
 * The line standing for a group's other nodes: "47 more nodes as node-2, their own name and
 * addresses aside: node-4, node-5 and 45 more", with the group's counters added up where the lines
 * quote counters. Empty when no node is alike.
 */
export function alikeLine(block: Extract<EvidenceBlock, { kind: "node" }>): string {
  const n = block.alike.length;
  if (n === 0) return "";
  const aside = `own name${n === 1 ? "" : "s"}, addresses${block.otherLines ? ", rule line numbers" : ""}${block.counters.length ? ", counters" : ""} aside`;
  const counters = block.counters.length ? `; counters of the ${n + 1} together: ${block.counters.join(", ")}` : "";
  return `${plural(n, "more node")} as ${block.node} (${aside}): ${someNames(block.alike, 2)}${counters}`;
}

/**
 * `text` with every run of more than `shown` node names ("a, b, c, d, e") cut to a few and how
 * many more ("a, b, c, d and 94 more"), from GROUP_FROM_NODES nodes on; the article's three stay.
 */
export function fewNames(text: string, names: string[], shown = 4): string {
  if (names.length < GROUP_FROM_NODES) return text;
  const one = `(?:${[...names].sort((a, b) => b.length - a.length).map(escape).join("|")})`;
  const run = new RegExp(`(?<![\\w-])${one}(?:, ${one}){${shown},}(?![\\w-])`, "g");
  return text.replace(run, (m) => someNames(m.split(", "), shown));
}
