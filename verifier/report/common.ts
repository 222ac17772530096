// What every report shows besides the checks: the target line, the path-mode notes, the new
// connections per rule, and the problems. One place, so the three formats say the same thing.
import type { CheckResult, Diagnosis, PathModel, Verdict } from "../model";
import { accountNewConnections, detectPathMode, type ConnectionAccount } from "../checks";
import { plural } from "./layout";
import type { PathHop, PathNodeStep } from "./path";

/**
 * A section a caller adds to a report (the lab adds its connection accounting): a title and lines
 * of prose; each line is wrapped to the terminal's width like the report's own.
 */
export interface ReportSection {
  title: string;
  lines: string[];
}

/** What an empty diagnosis means for these results: nothing broken, or nothing known enough to fail. */
export function noDiagnosis(results: CheckResult[]): string {
  const unknown = results.filter((r) => r.verdict === "cannot-tell").length;
  if (results.some((r) => r.verdict === "fail")) return "no cause found for the failing claims";
  if (unknown === 0) return "nothing broken, every claim holds";
  return `nothing found broken, but ${plural(unknown, "claim")} cannot tell (see why below)`;
}

/** The diagnosis cause id, hop and subject in one line: "node-forwarding / node-2: forward-policy-drop". */
export const causeTitle = (d: Diagnosis) => `${d.hop} / ${d.subject}: ${d.cause}`;

export const VERDICT_LABEL: Record<Verdict, string> = { pass: "pass", fail: "FAIL", "cannot-tell": "cannot tell" };

export function targetLine(model: PathModel): string {
  const t = model.target;
  const where = t.kind === "lab" ? "local lab" : [t.project, t.location, t.clusterName].filter(Boolean).join(" / ");
  return `${where}${t.url ? ` — ${t.url}` : ""}`;
}

/** Explanations of Dataplane V2 / NEG when detected: the reader's path is not the article's. */
export function pathNotes(model: PathModel): string[] {
  const mode = detectPathMode(model, model.nodes.map((node) => ({ name: node.name, node })));
  const notes: string[] = [];
  if (model.nodeSelection && model.nodeSelection.mode !== "all") notes.push(`Nodes read: ${model.nodeSelection.note}.`);
  if (mode.neg.detected) notes.push(`NEG backends detected (${mode.neg.evidence.map((e) => e.detail).join("; ")}). ${mode.neg.explanation}`);
  if (mode.dataplaneV2.detected) notes.push(`Dataplane V2 detected (${mode.dataplaneV2.evidence.map((e) => e.detail).join("; ")}). ${mode.dataplaneV2.explanation}`);
  return notes;
}

export function connectionLines(account: ConnectionAccount | undefined): string[] {
  if (!account) return [];
  const lines: string[] = [];
  for (const n of account.nodes) {
    if (n.unavailable) {
      lines.push(`${n.node}: ${n.unavailable}`);
      continue;
    }
    const entered = n.nodePortEntries ? `, ${n.nodePortEntries.newConnections} entered by nodePort` : "";
    lines.push(`${n.node}: ${plural(n.total, "new connection")} DNATed${entered}`);
    for (const e of n.endpoints) lines.push(`  +${e.newConnections} ${e.chain} -> ${e.endpoint ?? "?"}${e.pod ? ` (${e.pod})` : ""}  [line ${e.line}]`);
  }
  lines.push(`all nodes: ${plural(account.total, "new connection")} for ${plural(account.requests, "request")}${account.keepAlive ? " (client keep-alive)" : " (a new client connection each)"}`);
  return lines;
}

export function account(model: PathModel): ConnectionAccount | undefined {
  return accountNewConnections(model);
}

/**
 * One line per problem: "source subject: message — hint". Problems that differ only by subject (one
 * missing object two reads needed: the Ingress's and the Service's events) are one line naming both.
 */
export function problemLines(model: PathModel): string[] {
  const lines = new Map<string, { source: string; subjects: string[]; rest: string }>();
  for (const p of model.problems) {
    const rest = `${p.message}${p.hint ? ` — ${p.hint}` : ""}`;
    const key = `${p.source}\n${rest}`;
    const line = lines.get(key);
    if (!line) lines.set(key, { source: p.source, subjects: p.subject ? [p.subject] : [], rest });
    else if (p.subject && !line.subjects.includes(p.subject)) line.subjects.push(p.subject);
  }
  return [...lines.values()].map((l) => `${l.source}${l.subjects.length ? ` ${l.subjects.join(", ")}` : ""}: ${l.rest}`);
}

export function tally(results: CheckResult[]): string {
  const n = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return `${n("pass")} pass, ${n("fail")} fail, ${n("cannot-tell")} cannot tell`;
}

/** Below this many nodes every node is drawn on its own (the article's three nodes always are). */
export const GROUP_FROM_NODES = 6;

/**
 * The nodes of the path in groups of nodes whose rules say the same: the same verdicts, pods, n-port
 * rule, chains and DNAT targets with the same shares (the node's own name, n-ip, line numbers and
 * counters aside). Each group is its first node and the names of the others ("97 nodes: same rules
 * as node-1"), in the path's order. With fewer than GROUP_FROM_NODES nodes, one group per node.
 */
export function nodeGroups(hops: PathHop[]): { node: string; alike: string[] }[] {
  const perNode = hops.find((h) => h.hop === "node")?.perNode ?? [];
  if (perNode.length < GROUP_FROM_NODES) return perNode.map((n) => ({ node: n.node, alike: [] }));
  const steps: PathHop["hop"][] = ["node", "kube-nodeports", "kube-ext", "kube-svc", "kube-sep"];
  const bare = (s: PathNodeStep | undefined) =>
    s && {
      verdict: s.verdict,
      port: s.port,
      chain: s.chain,
      rule: s.rule,
      pods: s.pods,
      note: s.note,
      endpoints: s.endpoints?.map((e) => ({ ...e, newConnections: undefined })),
    };
  const groups = new Map<string, { node: string; alike: string[] }>();
  for (const n of perNode) {
    const key = JSON.stringify(steps.map((id) => bare(hops.find((h) => h.hop === id)?.perNode?.find((s) => s.node === n.node))));
    const group = groups.get(key);
    if (group) group.alike.push(n.node);
    else groups.set(key, { node: n.node, alike: [] });
  }
  return [...groups.values()];
}

export { someNames } from "../checks/verdict";
