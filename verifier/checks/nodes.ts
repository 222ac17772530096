// C2..C7: what the nodes' nat tables, addresses and sockets say about the Service.
import type { CheckResult, ClaimId, Evidence, Verdict } from "../model";
import type { TracedEndpoint } from "../iptables/types";
import {
  endpointKey,
  problemText,
  ruleLine,
  serviceChainOf,
  walkedRule,
  whyNoNodeData,
  type CheckContext,
  type NodeView,
} from "./context";
import { combine, list, plural, result, someNames } from "./verdict";

export const CLAIMS: Record<"C2" | "C3" | "C4" | "C5" | "C6" | "C7", string> = {
  C2: "Service load-balancing is done by NAT rules on every node",
  C3: "The nodePort rules exist on every node, also on nodes without pods",
  C4: "The clusterIP is on no network interface",
  C5: "No process listens on the nodePort",
  C6: "nodeIP:nodePort leads to the same service chain as clusterIP:port",
  C7: "The service chain splits new connections between the pods with the shares the rules give",
};

interface NodePart {
  verdict: Verdict;
  evidence: Evidence[];
  /** short reason for a fail / cannot-tell, naming the node */
  reason?: string;
}

/** One verdict per node, combined; the summary names the nodes that failed or were unreadable. */
function perNode(id: ClaimId, claim: string, ctx: CheckContext, passSummary: string, part: (v: NodeView) => NodePart): CheckResult {
  if (ctx.nodes.length === 0) {
    const why = problemText(ctx.model, ["kubernetes", "ssh", "snapshot", "gcp", "lab"]);
    return result(id, claim, "cannot-tell", `No node is known: ${list(why)}`, []);
  }
  const parts = ctx.nodes.map((v) => ({ v, p: part(v) }));
  const verdict = combine(parts.map((x) => x.p.verdict));
  const evidence = parts.flatMap((x) => x.p.evidence);
  const failed = parts.filter((x) => x.p.verdict === "fail").map((x) => x.p.reason ?? x.v.name);
  const unknown = sharedReasons(parts.filter((x) => x.p.verdict === "cannot-tell").map((x) => ({ node: x.v.name, reason: x.p.reason })));
  const summary =
    verdict === "pass"
      ? passSummary
      : verdict === "fail"
        ? `${failed.join("; ")}${unknown.length ? ` (and cannot tell: ${unknown.join("; ")})` : ""}`
        : `Cannot tell: ${unknown.join("; ")}`;
  return result(id, claim, verdict, summary, evidence);
}

/**
 * The cannot-tell reasons, each said once: a reason that names no node (a problem's brief, such as a
 * snapshot's missing node files) is shared by all the nodes it holds for, named once before it.
 */
function sharedReasons(parts: { node: string; reason?: string }[]): string[] {
  const byReason = new Map<string, string[]>();
  const out: (string | { reason: string })[] = [];
  for (const { node, reason } of parts) {
    if (reason === undefined || reason.includes(node)) {
      out.push(reason ?? node);
      continue;
    }
    const nodes = byReason.get(reason);
    if (nodes) nodes.push(node);
    else {
      byReason.set(reason, [node]);
      out.push({ reason });
    }
  }
  return out.map((x) => (typeof x === "string" ? x : `${someNames(byReason.get(x.reason)!)}: ${x.reason}`));
}

/** The claims that need kube-proxy's rules cannot be judged on Dataplane V2: say why. */
function dataplaneV2Result(id: ClaimId, ctx: CheckContext): CheckResult | undefined {
  if (!ctx.mode.dataplaneV2.detected) return undefined;
  return result(id, CLAIMS[id as keyof typeof CLAIMS], "cannot-tell", `Not on this cluster's path: ${ctx.mode.dataplaneV2.explanation}`, ctx.mode.dataplaneV2.evidence);
}

function needsService(id: keyof typeof CLAIMS, ctx: CheckContext, needNodePort: boolean): CheckResult | undefined {
  const missing: string[] = [];
  if (!ctx.service || !ctx.port) missing.push("the Service");
  if (ctx.service && !ctx.clusterIP && id !== "C5" && id !== "C3") missing.push("the Service's clusterIP");
  if (needNodePort && ctx.nodePort === undefined) missing.push("the Service's nodePort");
  if (missing.length === 0) return undefined;
  const why = problemText(ctx.model, ["kubernetes", "input", "lab"]);
  return result(id, CLAIMS[id], "cannot-tell", `Cannot tell without ${missing.join(" and ")}: ${list(why)}`, []);
}

/** The structured fields of an evidence that quotes a rule: the node, the rule's line and text. */
function ruleFields(v: NodeView, rule: { line: number; text: string } | undefined): Pick<Evidence, "node" | "line" | "rule"> {
  return rule ? { node: v.name, line: rule.line, rule: rule.text } : { node: v.name };
}

const podNote = (v: NodeView) => (v.pods.length === 0 ? " (runs no pod of the Service)" : ` (runs ${v.pods.map((p) => p.name).join(", ")})`);

function noDump(ctx: CheckContext, v: NodeView): NodePart | undefined {
  if (v.trace) return undefined;
  return { verdict: "cannot-tell", evidence: [], reason: whyNoNodeData(ctx, v, "the nat table") };
}

function traceWarnings(v: NodeView): Evidence[] {
  const warnings = v.trace?.warnings ?? [];
  return warnings.length === 0 ? [] : [{ source: v.dumpSource, detail: `tracer warnings: ${warnings.slice(0, 3).join("; ")}${warnings.length > 3 ? ` (+${warnings.length - 3} more)` : ""}` }];
}

/**
 * The share of new connections whose fate this node's dump does not show (the trace reached a
 * chain that is not in it, or a cut or unreadable line), and endpoints known only from kube-proxy's
 * comments: never a pass, never a fail, but "cannot tell", naming where the dump stops.
 */
function unknownShare(v: NodeView, side: "clusterIP" | "nodePort", target: string): NodePart | undefined {
  const traced = v.traced;
  if (!traced) return undefined;
  const unresolved = (side === "clusterIP" ? traced.unresolved : traced.nodePortUnresolved) ?? [];
  const hinted = ((side === "clusterIP" ? traced.endpoints : traced.nodePortEndpoints) ?? []).filter((e) => e.from === "comment");
  if (unresolved.length === 0 && hinted.length === 0) return undefined;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const evidence: Evidence[] = [
    ...unresolved.map((u) => ({ source: v.dumpSource, detail: `${pct(u.share)} of new connections to ${target} reach ${u.chain}: ${u.reason}` })),
    ...hinted.map((e) => ({ source: v.dumpSource, detail: `${pct(e.share)} of new connections to ${target} jump to ${e.chain ?? "a chain"}, which is not in the dump; ${endpointKey(e.ip, e.port)} is only named by its comment` })),
    ...traceWarnings(v),
  ];
  const total = unresolved.reduce((a, u) => a + u.share, 0) + hinted.reduce((a, e) => a + e.share, 0);
  const where = [...unresolved.map((u) => `${u.chain} ${u.reason}`), ...hinted.map((e) => `${e.chain ?? "?"} not in the dump`)];
  return { verdict: "cannot-tell", evidence, reason: `${v.name}: cannot tell where ${pct(total)} of new connections to ${target} go (${where.join("; ")})` };
}

export function checkC2(ctx: CheckContext): CheckResult {
  const early = dataplaneV2Result("C2", ctx) ?? needsService("C2", ctx, false);
  if (early) return early;
  const target = `${ctx.clusterIP}:${ctx.port!.port}`;
  return perNode("C2", CLAIMS.C2, ctx, `Every node (${ctx.nodes.length}) has nat rules that send ${target} to the pods.`, (v) => {
    const missing = noDump(ctx, v) ?? unknownShare(v, "clusterIP", target);
    if (missing) return missing;
    const first = v.traced?.endpoints[0];
    if (!v.traced || !first) {
      return { verdict: "fail", evidence: [{ source: v.dumpSource, node: v.name, detail: `no nat rule sends ${target} anywhere` }, ...traceWarnings(v)], reason: `${v.name}: no nat rule for ${target}` };
    }
    const entry = walkedRule(first, (r) => r.text.includes(ctx.clusterIP!)) ?? first.evidence?.[0];
    const detail = entry ? ruleLine(entry) : `${target} -> ${v.traced.endpoints.map((e) => endpointKey(e.ip, e.port)).join(", ")}`;
    return { verdict: "pass", evidence: [{ source: v.dumpSource, detail, ...ruleFields(v, entry) }] };
  });
}

export function checkC3(ctx: CheckContext): CheckResult {
  const early = dataplaneV2Result("C3", ctx) ?? needsService("C3", ctx, true);
  if (early) return early;
  const nodePort = ctx.nodePort!;
  const podless = ctx.nodes.filter((v) => v.pods.length === 0).map((v) => v.name);
  const pass = `All ${ctx.nodes.length} nodes have a rule for nodePort ${nodePort}${podless.length ? `, including ${podless.join(", ")} with no pod` : ""}.`;
  return perNode("C3", CLAIMS.C3, ctx, pass, (v) => {
    const missing = noDump(ctx, v) ?? unknownShare(v, "nodePort", `${v.internalIp ?? v.name}:${nodePort}`);
    if (missing) return missing;
    const eps = v.traced?.nodePortEndpoints;
    if (!v.traced || eps === null || eps === undefined) {
      return { verdict: "fail", evidence: [{ source: v.dumpSource + podNote(v), node: v.name, detail: `no rule matches --dport ${nodePort}` }, ...traceWarnings(v)], reason: `${v.name}: no rule for nodePort ${nodePort}` };
    }
    if (eps.length === 0) {
      return {
        verdict: "fail",
        evidence: [{ source: v.dumpSource + podNote(v), detail: `nodePort ${nodePort} traffic is dropped here (externalTrafficPolicy Local and no local pod)` }],
        reason: `${v.name}: nodePort ${nodePort} leads nowhere`,
      };
    }
    const rule = walkedRule(eps[0], (r) => new RegExp(`--dport ${nodePort}\\b`).test(r.text)) ?? eps[0].evidence?.[0];
    return { verdict: "pass", evidence: [{ source: v.dumpSource + podNote(v), detail: rule ? ruleLine(rule) : `nodePort ${nodePort} -> ${plural(eps.length, "endpoint")}`, ...ruleFields(v, rule) }] };
  });
}

export function checkC4(ctx: CheckContext): CheckResult {
  const early = needsService("C4", ctx, false);
  if (early) return early;
  const ip = ctx.clusterIP!;
  return perNode("C4", CLAIMS.C4, ctx, `${ip} is on no interface of any of the ${ctx.nodes.length} nodes; it exists only in nat rules.`, (v) => {
    const addresses = v.node?.addresses;
    if (!addresses) return { verdict: "cannot-tell", evidence: [], reason: whyNoNodeData(ctx, v, "the interface addresses (ip -o addr)") };
    const source = `node ${v.name}: ip -o addr`;
    const holder = addresses.find((a) => a.address === ip);
    if (holder) {
      return { verdict: "fail", evidence: [{ source, node: v.name, detail: `${holder.ifname} has ${holder.address}/${holder.prefixLength}` }], reason: `${v.name}: ${ip} is on ${holder.ifname}` };
    }
    // IPv6 link-local (fe80::/10) addresses are on every interface and can never be a clusterIP:
    // counted, not listed.
    const linkLocal = addresses.filter((a) => /^fe[89ab][0-9a-f]:/i.test(a.address));
    const shown = addresses.filter((a) => !linkLocal.includes(a)).map((a) => `${a.ifname} ${a.address}/${a.prefixLength}`);
    const nodeIp = v.internalIp && addresses.some((a) => a.address === v.internalIp) ? `; node IP ${v.internalIp} is there` : "";
    const hidden = linkLocal.length > 0 ? ` (+${plural(linkLocal.length, "IPv6 link-local address", "IPv6 link-local addresses")})` : "";
    return { verdict: "pass", evidence: [{ source, node: v.name, detail: `${shown.slice(0, 8).join(", ")}${shown.length > 8 ? `, +${shown.length - 8} more` : ""}${hidden}${nodeIp}; ${ip} on none` }] };
  });
}

export function checkC5(ctx: CheckContext): CheckResult {
  const early = needsService("C5", ctx, true);
  if (early) return early;
  const nodePort = ctx.nodePort!;
  return perNode("C5", CLAIMS.C5, ctx, `No process listens on ${nodePort} on any of the ${ctx.nodes.length} nodes; the port exists only as a rule.`, (v) => {
    const listeners = v.node?.listeners;
    if (!listeners) return { verdict: "cannot-tell", evidence: [], reason: whyNoNodeData(ctx, v, "the listening sockets (ss -ltn)") };
    const source = `node ${v.name}: ss -ltn`;
    const holder = listeners.filter((l) => l.port === nodePort);
    if (holder.length > 0) {
      const who = holder.map((l) => `${l.address}:${l.port}${l.process ? ` (${l.process})` : ""}`).join(", ");
      return { verdict: "fail", evidence: [{ source, node: v.name, detail: `listening on ${who}; nat PREROUTING still rewrites the packets before they could reach it` }], reason: `${v.name}: ${who} listens` };
    }
    const ports = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
    return { verdict: "pass", evidence: [{ source, node: v.name, detail: `${plural(listeners.length, "listening socket")} on ${ports.length === 1 ? "port" : "ports"} ${ports.join(", ")}; none on ${nodePort}` }] };
  });
}

export function checkC6(ctx: CheckContext): CheckResult {
  const early = dataplaneV2Result("C6", ctx) ?? needsService("C6", ctx, true);
  if (early) return early;
  const nodePort = ctx.nodePort!;
  const target = `${ctx.clusterIP}:${ctx.port!.port}`;
  let chainSeen: string | undefined;
  const res = perNode("C6", CLAIMS.C6, ctx, "", (v) => {
    const missing = noDump(ctx, v) ?? unknownShare(v, "nodePort", `${v.internalIp ?? v.name}:${nodePort}`) ?? unknownShare(v, "clusterIP", target);
    if (missing) return missing;
    const viaNodePort = v.traced?.nodePortEndpoints?.[0];
    const viaClusterIp = v.traced?.endpoints[0];
    const from = `${v.internalIp ?? v.name}:${nodePort}`;
    if (!viaNodePort || !viaClusterIp) {
      const which = !viaNodePort ? `${from} leads to no endpoint` : `${target} leads to no endpoint`;
      return { verdict: "fail", evidence: [{ source: v.dumpSource, node: v.name, detail: which }], reason: `${v.name}: ${which}` };
    }
    const npChain = serviceChainOf(viaNodePort);
    const ipChain = serviceChainOf(viaClusterIp, v.traced);
    // The hops between the nodePort match and the service chain (KUBE-NODEPORTS -> KUBE-EXT -> KUBE-SVC).
    const walked = viaNodePort.evidence ?? [];
    const from0 = walked.findIndex((r) => new RegExp(`dport ${nodePort}\\b`).test(r.text));
    const toSvc = walked.findIndex((r) => r.chain.startsWith("KUBE-SVC-") || r.chain.startsWith("KUBE-SVL-") || r.chain.startsWith("service-"));
    const walk = from0 >= 0 ? walked.slice(from0, toSvc > from0 ? toSvc : undefined) : walked.filter((r) => !r.chain.startsWith("KUBE-SEP-"));
    const evidence: Evidence[] = walk.map((r) => ({ source: v.dumpSource, detail: ruleLine(r), ...ruleFields(v, r) }));
    if (npChain && ipChain) {
      evidence.push({ source: v.dumpSource, node: v.name, detail: `${from} enters ${npChain}; ${target} enters ${ipChain}` });
      if (npChain !== ipChain) {
        const local = npChain.startsWith("KUBE-SVL-") ? " (KUBE-SVL: externalTrafficPolicy Local keeps nodePort traffic on local pods)" : "";
        return { verdict: "fail", evidence, reason: `${v.name}: ${from} enters ${npChain}, ${target} enters ${ipChain}${local}` };
      }
      chainSeen = npChain;
      return { verdict: "pass", evidence };
    }
    // No chain names in the trace (e.g. an unusual format): compare where both lead instead.
    const set = (eps: TracedEndpoint[]) => eps.map((e) => endpointKey(e.ip, e.port)).sort().join(",");
    const same = set(v.traced!.nodePortEndpoints!) === set(v.traced!.endpoints);
    evidence.push({ source: v.dumpSource, node: v.name, detail: `${from} -> ${set(v.traced!.nodePortEndpoints!)}; ${target} -> ${set(v.traced!.endpoints)}` });
    return same ? { verdict: "pass", evidence } : { verdict: "fail", evidence, reason: `${v.name}: nodePort and clusterIP lead to different endpoints` };
  });
  if (res.verdict === "pass") res.summary = `On every node, nodeIP:${nodePort} reaches ${chainSeen ?? "the same endpoints"}, the chain of ${target}.`;
  return res;
}

export function checkC7(ctx: CheckContext): CheckResult {
  const early = dataplaneV2Result("C7", ctx) ?? needsService("C7", ctx, false);
  if (early) return early;
  const kubeEndpoints = (ctx.model.kubernetes?.endpoints ?? []).filter((e) => e.ready);
  const expected = kubeEndpoints.length > 0
    ? kubeEndpoints.map((e) => ({ key: endpointKey(e.ip, e.port), pod: e.podName ?? ctx.pods.find((p) => p.ip === e.ip)?.name }))
    : ctx.pods.filter((p) => p.ready && p.ip && typeof ctx.port!.targetPort === "number").map((p) => ({ key: endpointKey(p.ip!, ctx.port!.targetPort as number), pod: p.name }));
  if (expected.length === 0) {
    const why = problemText(ctx.model, ["kubernetes", "lab"]);
    return result("C7", CLAIMS.C7, "cannot-tell", `Kubernetes lists no ready endpoint to compare with: ${list(why)}`, []);
  }
  const expectedKeys = expected.map((e) => e.key).sort();
  const podPort = ctx.model.target.expected?.podPort;
  let shares = "";
  const res = perNode("C7", CLAIMS.C7, ctx, "", (v) => {
    const missing = noDump(ctx, v) ?? unknownShare(v, "clusterIP", `${ctx.clusterIP}:${ctx.port!.port}`);
    if (missing) return missing;
    const eps = v.traced?.endpoints ?? [];
    const evidence: Evidence[] = eps.map((e) => {
      const pod = expected.find((x) => x.key === endpointKey(e.ip, e.port))?.pod;
      const split = walkedRule(e, (r) => r.chain.startsWith("KUBE-SVC-") || r.chain.startsWith("service-"));
      const dnat = walkedRule(e, (r) => /DNAT|dnat/.test(r.text));
      return {
        source: v.dumpSource,
        // The DNAT rule is the one that decides where the connection goes: its line is the evidence's.
        ...ruleFields(v, dnat ?? split),
        detail: `${endpointKey(e.ip, e.port)}${pod ? ` (${pod})` : " (no such ready endpoint in Kubernetes)"} share ${(e.share * 100).toFixed(1)}%` +
          `${split ? ` — ${ruleLine(split)}` : ""}${dnat ? ` — ${ruleLine(dnat)}` : ""}`,
      };
    });
    const traced = eps.map((e) => endpointKey(e.ip, e.port)).sort();
    const wrongPort = podPort !== undefined ? eps.filter((e) => e.port !== podPort) : [];
    if (traced.join(",") !== expectedKeys.join(",")) {
      return { verdict: "fail", evidence, reason: `${v.name}: rules lead to [${traced.join(", ")}], Kubernetes endpoints are [${expectedKeys.join(", ")}]` };
    }
    if (wrongPort.length > 0) {
      return { verdict: "fail", evidence, reason: `${v.name}: endpoints on port ${wrongPort[0].port}, the program's pod port is ${podPort}` };
    }
    shares = eps.map((e) => `${endpointKey(e.ip, e.port)} ${(e.share * 100).toFixed(0)}%`).join(", ");
    return { verdict: "pass", evidence };
  });
  if (res.verdict === "pass") res.summary = `On every node the service chain splits new connections ${shares}, exactly the pods Kubernetes lists.`;
  return res;
}
