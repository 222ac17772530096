// The Markdown report: the verdict table, the article's picture as a Mermaid diagram with the real
// values, the evidence per claim, the connection counts and the problems.
import type { CheckResult, PathModel } from "../model";
import { redactSecrets } from "../outputs";
import { NAT_FIRST_PACKET, FRONT_END_CONNECTIONS } from "../checks/connections";
import { account, connectionLines, pathNotes, problemLines, tally, targetLine, VERDICT_LABEL } from "./common";
import { renderMermaid } from "./mermaid";

/** A table cell: no line breaks, pipes escaped. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");

/** Inline code that survives backticks inside the text. */
function code(text: string): string {
  const flat = text.replace(/[\r\n]+/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return longest > 0 ? `${fence} ${flat} ${fence}` : `${fence}${flat}${fence}`;
}

export function renderMarkdown(model: PathModel, results: CheckResult[]): string {
  const out: string[] = [];
  out.push("# The path from the load balancer to the pods", "", `Target: ${targetLine(model)}`, "");
  for (const note of pathNotes(model)) out.push(`> **Note:** ${note}`, "");
  out.push("| Claim | Verdict | Summary |", "|---|---|---|");
  for (const r of results) out.push(`| ${r.id} ${cell(r.claim)} | **${VERDICT_LABEL[r.verdict]}** | ${cell(r.summary)} |`);
  out.push("", tally(results), "");

  out.push("## The path", "", "```mermaid", renderMermaid(model), "```", "");

  out.push("## Evidence", "");
  for (const r of results) {
    out.push(`### ${r.id}: ${r.claim} — ${VERDICT_LABEL[r.verdict]}`, "", r.summary, "");
    for (const e of r.evidence) out.push(`- ${e.source}: ${code(e.detail)}`);
    if (r.evidence.length > 0) out.push("");
  }

  const counts = connectionLines(account(model));
  if (counts.length > 0) {
    out.push("## New connections per rule", "", "```", ...counts, "```", "", NAT_FIRST_PACKET, FRONT_END_CONNECTIONS, "");
  }
  const problems = problemLines(model);
  if (problems.length > 0) {
    out.push("## Problems while collecting", "");
    problems.forEach((p) => out.push(`- ${cell(p)}`));
    out.push("");
  }
  return redactSecrets(out.join("\n"));
}
