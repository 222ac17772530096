// The Markdown report, in the terminal report's order: the diagnosis first, then the path as the
// article draws it (a Mermaid diagram with the real values and counters, and a table per node),
// the evidence per claim along the path, the counters' meaning once, and the claims table with the
// tally last.
import type { CheckResult, Diagnosis, Evidence, PathModel } from "../model";
import { redactSecrets } from "../outputs";
import { redactValue } from "../redact";
import { diagnose } from "../checks/diagnosis";
import { NAT_FIRST_PACKET, frontEndConnections } from "../checks/connections";
import { account, causeTitle, noDiagnosis, nodeGroups, pathNotes, problemLines, someNames, tally, targetLine, VERDICT_LABEL, type ReportSection } from "./common";
import { alikeLine, evidenceBlocks, fewNames, nodeTokens } from "./evidence-groups";
import { plural } from "./layout";
import { renderMermaid } from "./mermaid";
import { buildPath, orderClaimsAlongPath, type PathHop } from "./path";

export interface MarkdownOptions {
  /** the run's diagnosis; computed from the model and results when not given */
  diagnosis?: Diagnosis[];
  /** more sections after the evidence (the lab's accounting) */
  sections?: ReportSection[];
}

/** A table cell: no line breaks, pipes escaped. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");

/** Inline code that survives backticks inside the text. */
function code(text: string): string {
  const flat = text.replace(/[\r\n]+/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return longest > 0 ? `${fence} ${flat} ${fence}` : `${fence}${flat}${fence}`;
}

const hostPort = (address?: string, port?: number) => (address === undefined && port === undefined ? "?" : `${address ?? "?"}:${port ?? "?"}`);

const HOP_LABEL: Record<PathHop["hop"], string> = {
  client: "client",
  "lb-public-ip": "LB public IP",
  "forwarding-rule": "forwarding rule",
  "target-proxy": "target proxy",
  "url-map": "URL map",
  "backend-service": "backend service",
  "instance-group": "instance group",
  "network-endpoint-group": "network endpoint group",
  endpoint: "endpoint",
  node: "node",
  "kube-nodeports": "KUBE-NODEPORTS",
  "kube-ext": "KUBE-EXT",
  "kube-svc": "KUBE-SVC",
  "kube-sep": "KUBE-SEP",
  pod: "pod",
};

/** The path as two tables: the hops the load balancer owns, then one row per node. */
function pathTables(hops: PathHop[]): string[] {
  const out = ["| hop | the article's term | value | verdict |", "|---|---|---|---|"];
  for (const h of hops.filter((x) => !x.perNode)) {
    const value = h.hop === "lb-public-ip" || h.hop === "pod" || h.hop === "endpoint" ? `${h.hop !== "lb-public-ip" ? `${h.name} ` : ""}${hostPort(h.address, h.port)}` : h.name;
    out.push(`| ${HOP_LABEL[h.hop]} | ${h.term ?? ""} | ${cell([value, h.detail].filter(Boolean).join(", "))} | ${VERDICT_LABEL[h.verdict]} |`);
  }
  const get = (id: PathHop["hop"]) => hops.find((h) => h.hop === id);
  const nodes = get("node")?.perNode ?? [];
  if (nodes.length === 0) return out;
  const skipped = hops.find((h) => h.skipped && h.hop === "kube-nodeports") ?? get("node");
  if (get("node")?.skipped) out.push("", `The nodes' nat box below is not on this path: ${skipped?.detail ?? "skipped on the NEG path"}.`);
  out.push("", "| node | n-ip:n-port | KUBE-NODEPORTS | KUBE-EXT → KUBE-SVC (s-ip:s-port) | KUBE-SEP → p-ip:p-port |", "|---|---|---|---|---|");
  // Many nodes alike (a big cluster's pod-less nodes) are one row and a row naming the others, as
  // in the terminal's path.
  const groups = new Map(nodeGroups(hops).map((g) => [g.node, g.alike]));
  for (const n of nodes.filter((x) => groups.has(x.node))) {
    const at = (id: PathHop["hop"]) => get(id)?.perNode?.find((s) => s.node === n.node);
    const np = at("kube-nodeports");
    const ext = at("kube-ext");
    const svc = at("kube-svc");
    const sep = at("kube-sep");
    const count = (c?: number) => (c !== undefined ? `: ${plural(c, "new connection")}` : "");
    const npText = np?.rule ? `line ${np.line ?? "?"}, dport ${np.port}${count(np.newConnections)}` : (np?.note ?? "");
    const chain = [ext?.chain, svc?.chain].filter(Boolean).join(" → ");
    const svcText = chain ? `${chain} (${hostPort(svc?.address, svc?.port)})` : (svc?.note ?? "");
    const sepText = (sep?.endpoints ?? [])
      .map((e) => `${e.chain ?? "?"} ${(e.share * 100).toFixed(0)}% → ${e.address}:${e.port}${e.pod ? ` ${e.pod}` : ""}${e.podNode && e.podNode !== n.node ? ` on ${e.podNode}` : ""}${count(e.newConnections)}`)
      .join("<br>") || (sep?.note ?? "");
    const pods = n.pods?.length ? ` (runs ${n.pods.join(", ")})` : " (no pod)";
    out.push(`| ${cell(n.node + pods)} | ${hostPort(n.address, n.port)} | ${cell(npText)} | ${cell(svcText)} | ${cell(sepText)} |`);
    const alike = groups.get(n.node) ?? [];
    if (alike.length > 0) {
      const entered = alike.map((name) => get("kube-nodeports")?.perNode?.find((s) => s.node === name)?.newConnections);
      const counts = entered.some((c) => c !== undefined) ? `: ${plural(entered.reduce<number>((sum, c) => sum + (c ?? 0), 0), "new connection")} entered their n-port` : "";
      out.push(`| ${cell(`${plural(alike.length, "more node")}: ${someNames(alike)}`)} | their own | same rules as ${cell(n.node)}${counts} | same as ${cell(n.node)} | same as ${cell(n.node)} |`);
    }
  }
  return out;
}

export function renderMarkdown(rawModel: PathModel, rawResults: CheckResult[], rawOpts: MarkdownOptions = {}): string {
  // Every value the report quotes passes the one redaction first (and the whole text again at the end).
  const { model, results, opts } = redactValue({ model: rawModel, results: rawResults, opts: rawOpts });
  const out: string[] = [];
  out.push("# The path from the load balancer to the pods", "", `Target: ${targetLine(model)}`, "");
  for (const note of pathNotes(model)) out.push(`> **Note:** ${note}`, "");

  const diagnosis = opts.diagnosis ?? diagnose(model, results);
  out.push("## Diagnosis", "");
  if (diagnosis.length === 0) out.push(`${noDiagnosis(results)[0].toUpperCase()}${noDiagnosis(results).slice(1)}.`, "");
  diagnosis.forEach((d, i) => {
    out.push(`### ${i + 1}. ${cell(causeTitle(d))}`, "", d.summary, "");
    for (const e of d.evidence) out.push(`- ${e.source}: ${code(e.detail)}`);
    if (d.evidence.length > 0) out.push("");
    out.push(`**Fix:** ${d.fix}`, "");
  });

  const hops = buildPath(model, results, undefined, diagnosis);
  out.push("## The path", "", "```mermaid", renderMermaid(model, results, hops), "```", "", ...pathTables(hops), "");
  const acc = account(model);
  if (acc) {
    out.push(
      `All nodes: ${plural(acc.total, "new connection")} DNATed for ${plural(acc.requests, "request")}${acc.keepAlive ? " (client keep-alive)" : " (a new client connection each)"}.`,
      "",
      `${NAT_FIRST_PACKET} ${frontEndConnections(hops.some((h) => h.hop === "node" && h.skipped))}`,
      "",
    );
  }

  const ordered = orderClaimsAlongPath(results);
  out.push("## Evidence, claim by claim along the path", "");
  // Many nodes: alike nodes' evidence said once, runs of node names cut to a few (the JSON keeps all).
  const known = nodeTokens(model);
  const few = (text: string) => fewNames(text, [...known.keys()]);
  const item = (e: Evidence) => `- ${few(e.source)}: ${code(few(e.detail))}`;
  for (const r of ordered) {
    out.push(`### ${r.id}: ${r.claim} — ${VERDICT_LABEL[r.verdict]}`, "", few(r.summary), "");
    for (const b of evidenceBlocks(r, model, known)) {
      if (b.kind === "evidence") out.push(item(b.evidence));
      else {
        b.evidence.forEach((e) => out.push(item(e)));
        if (b.alike.length > 0) out.push(`- ${alikeLine(b)}`);
      }
    }
    if (r.evidence.length > 0) out.push("");
  }

  for (const s of opts.sections ?? []) {
    out.push(`## ${s.title}`, "");
    s.lines.forEach((l) => out.push(`- ${cell(l)}`));
    out.push("");
  }
  const problems = problemLines(model);
  if (problems.length > 0) {
    out.push("## Problems while collecting", "");
    problems.forEach((p) => out.push(`- ${cell(p)}`));
    out.push("");
  }

  out.push("## Claims", "", "| Claim | Verdict | Summary |", "|---|---|---|");
  for (const r of ordered) out.push(`| ${r.id} ${cell(r.claim)} | **${VERDICT_LABEL[r.verdict]}** | ${cell(few(r.summary))} |`);
  out.push("", tally(results), "");
  return redactSecrets(out.join("\n"));
}
