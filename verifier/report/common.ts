// What every report shows besides the checks: the target line, the path-mode notes, the new
// connections per rule, and the problems. One place, so the three formats say the same thing.
import type { CheckResult, PathModel, Verdict } from "../model";
import { accountNewConnections, detectPathMode, type ConnectionAccount } from "../checks";

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
    lines.push(`${n.node}: ${n.total} new connections DNATed${entered}`);
    for (const e of n.endpoints) lines.push(`  +${e.newConnections} ${e.chain} -> ${e.endpoint ?? "?"}${e.pod ? ` (${e.pod})` : ""}  [line ${e.line}]`);
  }
  lines.push(`all nodes: ${account.total} new connections for ${account.requests} requests${account.keepAlive ? " (client keep-alive)" : " (a new client connection each)"}`);
  return lines;
}

export function account(model: PathModel): ConnectionAccount | undefined {
  return accountNewConnections(model);
}

export function problemLines(model: PathModel): string[] {
  return model.problems.map((p) => `${p.source}${p.subject ? ` ${p.subject}` : ""}: ${p.message}${p.hint ? ` — ${p.hint}` : ""}`);
}

export function tally(results: CheckResult[]): string {
  const n = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return `${n("pass")} pass, ${n("fail")} fail, ${n("cannot-tell")} cannot tell`;
}
