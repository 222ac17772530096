// The terminal report: a table of claims, then the evidence per claim, the connection counts,
// the path-mode notes and the problems. Colour only when asked (the CLI asks on a TTY).
import type { CheckResult, PathModel, Verdict } from "../model";
import { account, connectionLines, pathNotes, problemLines, tally, targetLine, VERDICT_LABEL } from "./common";
import { NAT_FIRST_PACKET, FRONT_END_CONNECTIONS } from "../checks/connections";

export interface TerminalOptions {
  color?: boolean;
  /** widest line of the table's summary column */
  width?: number;
}

const COLOR: Record<Verdict, string> = { pass: "\x1b[32m", fail: "\x1b[31m", "cannot-tell": "\x1b[33m" };
const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";

function truncate(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + "…";
}

export function renderTerminal(model: PathModel, results: CheckResult[], opts: TerminalOptions = {}): string {
  const paint = (v: Verdict, text: string) => (opts.color ? `${COLOR[v]}${text}${RESET}` : text);
  const bold = (text: string) => (opts.color ? `${BOLD}${text}${RESET}` : text);
  const width = opts.width ?? 100;
  const out: string[] = [];
  out.push(bold(`Path from the load balancer to the pods: ${targetLine(model)}`), "");

  for (const note of pathNotes(model)) out.push(`NOTE ${note}`, "");

  const verdictWidth = Math.max(...Object.values(VERDICT_LABEL).map((l) => l.length));
  out.push(`${"claim".padEnd(5)}  ${"verdict".padEnd(verdictWidth)}  summary`);
  for (const r of results) {
    out.push(`${r.id.padEnd(5)}  ${paint(r.verdict, VERDICT_LABEL[r.verdict].padEnd(verdictWidth))}  ${truncate(r.summary, width)}`);
  }
  out.push("", tally(results), "");

  out.push(bold("Evidence"));
  for (const r of results) {
    out.push(`${r.id} ${paint(r.verdict, VERDICT_LABEL[r.verdict])}: ${r.claim}`);
    out.push(`    ${r.summary}`);
    for (const e of r.evidence) out.push(`    - ${e.source}: ${e.detail}`);
  }

  const counts = connectionLines(account(model));
  if (counts.length > 0) {
    out.push("", bold("New connections per rule (iptables-save -c before and after the requests)"));
    counts.forEach((l) => out.push(`  ${l}`));
    out.push(`  ${NAT_FIRST_PACKET}`, `  ${FRONT_END_CONNECTIONS}`);
  }

  const problems = problemLines(model);
  if (problems.length > 0) {
    out.push("", bold("Problems while collecting"));
    problems.forEach((p) => out.push(`  - ${p}`));
  }
  return out.join("\n") + "\n";
}
