// The terminal report, in the order a reader needs it: what broke (the diagnosis), the path in the
// article's order and terms with each node's counters, the evidence per claim along the path,
// then the claims table and the tally last, where the screen ends. Every line is wrapped to the
// terminal's width with a hanging indent; colour only when asked (the CLI asks on a TTY).
import { redactValue } from "../redact";
import type { CheckResult, Diagnosis, Evidence, PathModel, Verdict } from "../model";
import { diagnose } from "../checks/diagnosis";
import { NAT_FIRST_PACKET, frontEndConnections } from "../checks/connections";
import { account, causeTitle, noDiagnosis, nodeGroups, pathNotes, problemLines, someNames, tally, targetLine, VERDICT_LABEL, type ReportSection } from "./common";
import { alikeLine, evidenceBlocks, fewNames, nodeTokens } from "./evidence-groups";
import { gistRules, plural, wrap } from "./layout";
import { buildPath, orderClaimsAlongPath, type PathHop, type PathNodeStep } from "./path";

export interface TerminalOptions {
  color?: boolean;
  /** the terminal's width in columns: no line is wider (default 100; Infinity: no wrapping) */
  width?: number;
  /** evidence quotes whole rules; default: the gist of each rule (chain, match, jump) */
  full?: boolean;
  /** the run's diagnosis; computed from the model and results when not given */
  diagnosis?: Diagnosis[];
  /** more sections, shown after the evidence and before the claims table (the lab's accounting) */
  sections?: ReportSection[];
}

const COLOR: Record<Verdict, string> = { pass: "\x1b[32m", fail: "\x1b[31m", "cannot-tell": "\x1b[33m" };
const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";
/** Evidence lines shown per diagnosis cause unless --full. */
const CAUSE_EVIDENCE = 4;
/** In the verdict column of the path: a hop the container-native path does not cross. */
const NOT_ON_PATH = "not on path";
const VERDICT_WIDTH = Math.max(NOT_ON_PATH.length, ...Object.values(VERDICT_LABEL).map((l) => l.length));

const endpoint = (address?: string, port?: number) => (address === undefined && port === undefined ? "?" : `${address ?? "?"}:${port ?? "?"}`);

/** One line per hop up to the instance group, then one block per node (the article's picture). */
function pathLines(hops: PathHop[], out: (text: string, first: string, rest?: string) => void, paint: (v: Verdict, t: string) => string) {
  const get = (id: PathHop["hop"]) => hops.find((h) => h.hop === id);
  const mark = (v: Verdict) => paint(v, VERDICT_LABEL[v].padEnd(VERDICT_WIDTH));
  const lbHops: [PathHop["hop"], string, (h: PathHop) => string][] = [
    ["client", "client", (h) => h.detail ?? "sent no requests"],
    ["lb-public-ip", "LB public IP", (h) => endpoint(h.address, h.port)],
    ["forwarding-rule", "forwarding rule", (h) => `${h.name}${h.detail ? ` (${h.detail})` : ""}`],
    ["target-proxy", "target proxy", (h) => `${h.name}${h.detail ? ` (${h.detail})` : ""}`],
    ["url-map", "URL map", (h) => `${h.name}${h.detail ? `, ${h.detail}` : ""}`],
    ["backend-service", "backend service", (h) => `${h.name}${h.detail ? `, ${h.detail}` : ""}`],
    ["instance-group", "instance group", (h) => `${h.name}${h.detail ? `, ${h.detail} (n-port)` : ""}`],
  ];
  for (const [id, label, text] of lbHops) {
    const h = get(id);
    if (h) out(`${label}: ${text(h)}`, `  ${mark(h.verdict)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
  }
  // the container-native path: NEG per zone, then each endpoint p-ip:p-port with its health and node
  for (const h of hops.filter((x) => x.hop === "network-endpoint-group")) out(`network endpoint group: ${h.name}${h.detail ? `, ${h.detail}` : ""}`, `  ${mark(h.verdict)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
  for (const h of hops.filter((x) => x.hop === "endpoint")) out(`endpoint ${h.name}  p-ip:p-port ${endpoint(h.address, h.port)}${h.detail ? `, ${h.detail}` : ""}`, `  ${mark(h.verdict)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
  const nodeHop = get("node");
  const natSkipped = hops.find((x) => x.hop === "kube-nodeports" && x.skipped);
  // A line of its own, in the verdict column: it belongs to no endpoint above, to all nodes below.
  if (natSkipped) out(`the nodes' nat box: ${natSkipped.detail ?? "skipped"}`, `  ${NOT_ON_PATH.padEnd(VERDICT_WIDTH)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
  // The nodes the LB's connections cross on the NEG path: those routing an endpoint's p-ip.
  const routing = new Map<string, string[]>();
  for (const e of hops.filter((x) => x.hop === "endpoint" && x.node)) routing.set(e.node!, [...(routing.get(e.node!) ?? []), endpoint(e.address, e.port)]);
  const byNode = (id: PathHop["hop"], node: string): PathNodeStep | undefined => get(id)?.perNode?.find((s) => s.node === node);
  const counted = (s?: PathNodeStep) => (s?.newConnections !== undefined ? `: ${plural(s.newConnections, "new connection")}` : "");
  // Many nodes alike (a big cluster's pod-less nodes) are one block and one line naming the others.
  const groups = new Map(nodeGroups(hops).map((g) => [g.node, g.alike]));
  for (const n of (nodeHop?.perNode ?? []).filter((x) => groups.has(x.node))) {
    const np = byNode("kube-nodeports", n.node);
    const ext = byNode("kube-ext", n.node);
    const svc = byNode("kube-svc", n.node);
    const sep = byNode("kube-sep", n.node);
    const steps = [n, np, ext, svc, sep].filter((s): s is PathNodeStep => !!s);
    const verdict: Verdict = steps.some((s) => s.verdict === "fail") ? "fail" : steps.some((s) => s.verdict === "cannot-tell") ? "cannot-tell" : "pass";
    // "still forwards" is the article's point about a pod-less node; say it only when it holds: on
    // the NEG path the LB sends to pods, so a pod-less node forwards only what is routed through it.
    const pods = n.pods?.length
      ? `runs ${n.pods.join(", ")}`
      : natSkipped
        ? routing.has(n.node)
          ? `runs no pod; the LB's connections to ${routing.get(n.node)!.join(", ")} are routed through it`
          : "runs no pod: the LB sends nothing through it on this path"
        : n.verdict === "fail"
          ? "runs no pod"
          : "runs no pod, still forwards";
    out(`${n.node}  n-ip:n-port ${endpoint(n.address, n.port)}, ${pods}`, `  ${mark(verdict)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
    const indent = " ".repeat(2 + VERDICT_WIDTH + 4);
    const deeper = indent + "   ";
    if (n.verdict === "fail" && n.note) out(`!! ${n.note}`, indent, deeper);
    if (np?.rule || np?.note) out(np.rule ? `KUBE-NODEPORTS dport ${np.port}${np.line ? ` (line ${np.line})` : ""}${counted(np)}` : (np.note ?? ""), indent, deeper);
    const chains = [ext?.chain, svc?.chain].filter(Boolean).join(" -> ");
    if (chains) out(`-> ${chains} (s-ip:s-port ${endpoint(svc?.address, svc?.port)})`, indent, deeper);
    else if (svc?.note && svc.note !== np?.note) out(svc.note, indent, deeper);
    for (const e of sep?.endpoints ?? []) {
      const where = e.pod ? ` ${e.pod}${e.podNode && e.podNode !== n.node ? ` on ${e.podNode}` : ""}` : "";
      const count = e.newConnections !== undefined ? `: ${plural(e.newConnections, "new connection")}` : "";
      out(`-> ${e.chain ?? "?"} ${(e.share * 100).toFixed(0)}% DNAT p-ip:p-port ${e.address}:${e.port}${where}${count}`, indent, deeper);
    }
    if (sep?.note && !np?.note) out(`!! ${sep.note}`, indent, deeper);
    const alike = groups.get(n.node) ?? [];
    if (alike.length > 0) {
      const counts = alike.some((name) => byNode("kube-nodeports", name)?.newConnections !== undefined) ? `; ${plural(alike.reduce((sum, name) => sum + (byNode("kube-nodeports", name)?.newConnections ?? 0), 0), "new connection")} entered their n-port` : "";
      out(`${plural(alike.length, "more node")}: same rules as ${n.node}${counts}: ${someNames(alike)}`, `  ${mark(verdict)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
    }
  }
  for (const p of hops.filter((h) => h.hop === "pod")) {
    out(`${p.name}  p-ip:p-port ${endpoint(p.address, p.port)}${p.detail ? `, ${p.detail}` : ""}`, `  ${mark(p.verdict)}  `, " ".repeat(2 + VERDICT_WIDTH + 4));
  }
}

/**
 * The whole terminal report as text (ends with a newline). Shapes: `results` as runChecks gives
 * them (any order; shown along the path); `opts.width` in columns.
 */
export function renderTerminal(rawModel: PathModel, rawResults: CheckResult[], rawOpts: TerminalOptions = {}): string {
  // Redacted before wrapping, so a credential split over two lines cannot slip through.
  const { model, results, opts } = redactValue({ model: rawModel, results: rawResults, opts: rawOpts });
  const paint = (v: Verdict, text: string) => (opts.color ? `${COLOR[v]}${text}${RESET}` : text);
  const bold = (text: string) => (opts.color ? `${BOLD}${text}${RESET}` : text);
  const width = opts.width ?? 100;
  const lines: string[] = [];
  const out = (text: string, first = "", rest = first) => lines.push(...wrap(text, width, first, rest));
  const heading = (text: string) => {
    lines.push("");
    wrap(text, width).forEach((l) => lines.push(bold(l)));
  };
  // Many nodes: runs of node names in the claims' prose name a few and how many (the JSON keeps all).
  const known = nodeTokens(model);
  const few = (text: string) => fewNames(text, [...known.keys()]);
  // A detail that ends in a colon announces what follows; with nothing after it the line would read
  // as cut off, so the colon goes.
  const evidence = (e: Evidence, indent: string) =>
    out(few(`${e.source}: ${opts.full ? e.detail : gistRules(e.detail)}`).replace(/\s*:\s*$/, ""), `${indent}- `, `${indent}  `);

  lines.push("");
  wrap(`Path from the load balancer to the pods: ${targetLine(model)}`, width).forEach((l) => lines.push(bold(l)));
  for (const note of pathNotes(model)) {
    lines.push("");
    out(`NOTE ${note}`, "", "     ");
  }

  // What broke comes first: the reader of a failing run wants the cause before the facts.
  const diagnosis = opts.diagnosis ?? diagnose(model, results);
  if (diagnosis.length > 0) {
    heading(`Diagnosis: ${plural(diagnosis.length, "cause")}, ordered from the client`);
    diagnosis.forEach((d, i) => {
      const n = `${i + 1}. `;
      out(causeTitle(d), `  ${paint("fail", n)}`, "     ");
      out(d.summary, "     ");
      // The gist: a few lines of evidence per cause; the claims' evidence below has the rest.
      const shown = opts.full ? d.evidence : d.evidence.slice(0, CAUSE_EVIDENCE);
      for (const e of shown) evidence(e, "     ");
      // Said as a cut of the list above, in an item of its own, so it never reads as the tail of the last line.
      if (shown.length < d.evidence.length) {
        const hidden = d.evidence.length - shown.length;
        out(`- and ${hidden} more ${hidden === 1 ? "line" : "lines"} of evidence: --full shows them, as does the claim's evidence below`, "     ", "       ");
      }
      out(`fix: ${d.fix}`, "     ", "          ");
    });
  } else heading(`Diagnosis: ${noDiagnosis(results)}`);

  const hops = buildPath(model, results, undefined, diagnosis);
  const acc = account(model);
  heading(`The path, in the article's order and terms${acc ? " (new connections counted during the requests)" : ""}`);
  pathLines(hops, out, paint);
  if (acc) {
    out(`all nodes: ${plural(acc.total, "new connection")} DNATed for ${plural(acc.requests, "request")}${acc.keepAlive ? " (client keep-alive)" : " (a new client connection each)"}`, "  ", "    ");
    for (const n of acc.nodes.filter((x) => x.unavailable)) out(`${n.node}: not counted: ${n.unavailable}`, "  ", "    ");
    out(NAT_FIRST_PACKET, "  ", "  ");
    out(frontEndConnections(hops.some((h) => h.hop === "node" && h.skipped)), "  ", "  ");
  }

  const ordered = orderClaimsAlongPath(results);
  heading(`Evidence, claim by claim along the path${opts.full ? "" : " (rules in brief; --full quotes them whole)"}`);
  for (const r of ordered) {
    out(`${r.id} ${paint(r.verdict, VERDICT_LABEL[r.verdict])}: ${r.claim}`, "", "    ");
    out(few(r.summary), "    ");
    for (const b of evidenceBlocks(r, model, known)) {
      if (b.kind === "evidence") evidence(b.evidence, "    ");
      else {
        b.evidence.forEach((e) => evidence(e, "    "));
        if (b.alike.length > 0) out(alikeLine(b), "    - ", "      ");
      }
    }
  }

  for (const s of opts.sections ?? []) {
    heading(s.title);
    s.lines.forEach((l) => out(l, "  ", "    "));
  }

  const problems = problemLines(model);
  if (problems.length > 0) {
    heading("Problems while collecting");
    problems.forEach((p) => out(p, "  - ", "    "));
  }

  // The table and the tally last: they stay on screen when the run ends.
  lines.push("");
  const summaryIndent = " ".repeat(5 + 2 + VERDICT_WIDTH + 2);
  lines.push(`${"claim".padEnd(5)}  ${"verdict".padEnd(VERDICT_WIDTH)}  summary`);
  for (const r of ordered) {
    out(few(r.summary), `${r.id.padEnd(5)}  ${paint(r.verdict, VERDICT_LABEL[r.verdict].padEnd(VERDICT_WIDTH))}  `, summaryIndent);
  }
  lines.push("", tally(results));
  // A failing run ends with its point: each cause again, one entry each with its fix, where the
  // screen stops (the full diagnosis with its evidence is at the top).
  if (diagnosis.length > 0) {
    heading(`What broke, and the fix (${plural(diagnosis.length, "cause")}; evidence under Diagnosis at the top):`);
    diagnosis.forEach((d, i) => out(`${d.subject}: ${d.cause}: ${d.fix}`, `  ${paint("fail", `${i + 1}.`)} `, "     "));
  }
  return lines.join("\n") + "\n";
}
