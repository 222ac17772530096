// How long the reports get as a cluster grows: lines of the terminal report (whole, and its
// sections) and of the Markdown report for the article's 3 nodes, the lab's 50 nodes (`lab verify`'s
// report, its connection accounting included) and a 100-node GKE cluster, each built in memory
// (tests/verifier/fixtures) and judged by the pure checks. No network, no root:
//   npx ts-node bench/report-lines.ts
import { runChecks } from "../verifier/checks";
import { renderMarkdown } from "../verifier/report/markdown";
import { renderTerminal } from "../verifier/report/terminal";
import type { PathModel } from "../verifier/model";
import type { ReportSection } from "../verifier/report/common";
import { labTopology } from "../lab/topology";
import { connectionSection, type LabConnectionCheck } from "../lab/verify";
import { labModel } from "../tests/verifier/fixtures/lab-model";
import { gkeModel, scaledGkeModel } from "../tests/verifier/fixtures/gke-model";
import { markdownEvidence, terminalSections } from "../tests/verifier/fixtures/report-sections";

/** The lab's accounting rows as a healthy run gives them: every node counted 2 of 2 connections. */
function accounting(model: PathModel): ReportSection {
  const rows: LabConnectionCheck[] = model.nodes.map((n) => ({ node: n.name, lbProxyConnections: 2, lbHealthCheckConnections: 0, natNodePortConnections: 2, natDnatConnections: 2, accounted: true }));
  return connectionSection(rows, false);
}

/** Lines as `wc -l` counts them: a final newline ends the last line, it does not start another. */
const lines = (text: string) => text.replace(/\n$/, "").split("\n");

function measure(label: string, model: PathModel, lab: boolean): void {
  const results = runChecks(model);
  const sections = lab ? [accounting(model)] : [];
  const terminal = renderTerminal(model, results, { width: 100, sections });
  const markdown = renderMarkdown(model, results, { sections });
  const cut = terminalSections(terminal);
  const n = (lines: string[]) => String(lines.length).padStart(6);
  console.log(
    `${label.padEnd(26)} ${n(lines(terminal))} ${n(cut.path)} ${n(cut.evidence)} ${n(cut.claims)} ${n(lines(markdown))} ${n(markdownEvidence(markdown))}`,
  );
}

console.log(`${"report (width 100)".padEnd(26)} ${"total".padStart(6)} ${"path".padStart(6)} ${"evid.".padStart(6)} ${"claims".padStart(6)} ${"md".padStart(6)} ${"md ev.".padStart(6)}`);
measure("GKE, 3 nodes", gkeModel({ counters: true }), false);
measure("lab verify, 3 nodes", labModel(), true);
measure("lab verify, 50 nodes", labModel({}, labTopology({ nodes: 50 })), true);
measure("GKE, 100 nodes", scaledGkeModel(100, { counters: true }), false);
